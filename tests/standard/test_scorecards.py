"""Structured scorecards, told as hiring panels: focus attributes, scales, rankings, calibration."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hirepipe import (
    Application,
    GuardRejected,
    Pipeline,
    Policy,
    PolicyError,
    PolicySettings,
    Scorecard,
    standard_policy,
)
from hirepipe.models import ERASED, AttributeRating
from hirepipe.policy import OVERALL, ScorecardScheme
from hirepipe.reports import blind, calibration
from hirepipe.slate import Slate, by_attributes
from hirepipe.standard import StructuredScorecardData, with_structured_scorecards
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from tests.conftest import START

SCHEME = ScorecardScheme(
    categories=("skills", "qualifications", "traits"),
    attributes=(
        {"name": "python", "category": "skills", "description": "writes idiomatic Python"},
        {"name": "system_design", "category": "skills"},
        {"name": "degree", "category": "qualifications"},
        {"name": "communication", "category": "traits"},
    ),
    scale=(1, 2, 3, 4),
    focus={1: ("python", "communication"), 2: ("system_design",)},
    rank_by=("system_design",),
)
POLICY = standard_policy(structured_scorecards=SCHEME)
RANKED = POLICY.with_setting(ranking="attributes")


def panel(policy: Policy = POLICY, *, interviewers=("alice", "bob", "carol")):
    clock = FakeClock(START)
    pipeline = Pipeline(policy, clock=clock)
    requisition = make_requisition()
    application = pipeline.new_application(make_candidate(), requisition, interviewers=interviewers)
    pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
    return pipeline, requisition, application


def submit(pipeline, requisition, application, person, recommendation="yes", **ratings):
    pipeline.clock.advance(minutes=5)
    data = {"ratings": ratings} if ratings else {}
    return pipeline.fire(
        application,
        "submit_scorecard",
        actor=person,
        requisition=requisition,
        recommendation=recommendation,
        **data,
    )


class TestFocusAttributes:
    def test_debrief_waits_for_an_omitted_focus_attribute(self):
        """Bob leaves out communication: the debrief is blocked, naming him and it, until rated."""
        pipeline, requisition, application = panel()
        submit(pipeline, requisition, application, "alice", python=3, communication=4)
        submit(pipeline, requisition, application, "bob", python=2)  # no communication
        submit(pipeline, requisition, application, "carol", python=4, communication=3, degree=2)

        blockers = pipeline.blockers(
            application, "complete_debrief", actor="maria", requisition=requisition
        )
        assert ["focus_attributes_unrated"] == [b.code for b in blockers]
        assert {"interviewer": "bob", "missing": ["communication"], "round": 1} == {
            key: blockers[0].data[key] for key in ("interviewer", "missing", "round")
        }
        assert "bob" in blockers[0].message
        assert "communication" in blockers[0].message
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)
        assert ("focus_attributes_unrated",) == caught.value.codes
        assert "debrief" == application.stage

        submit(pipeline, requisition, application, "bob", python=2, communication=3)
        pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)
        assert "review" == application.stage

    def test_each_missing_interviewer_and_attribute_is_named(self):
        """Two interviewers missing different focus attributes: one blocker each, in order."""
        pipeline, requisition, application = panel()
        submit(pipeline, requisition, application, "alice")
        submit(pipeline, requisition, application, "bob", communication=1)
        submit(pipeline, requisition, application, "carol", python=4, communication=3)
        blockers = pipeline.blockers(
            application, "complete_debrief", actor="maria", requisition=requisition
        )
        assert [("alice", ["python", "communication"]), ("bob", ["python"])] == [
            (b.data["interviewer"], b.data["missing"]) for b in blockers
        ]

    def test_missing_scorecards_are_the_older_guards_news(self):
        """A scorecard not submitted at all is reported once, by scorecards_complete."""
        pipeline, requisition, application = panel()
        submit(pipeline, requisition, application, "alice", python=3, communication=4)
        codes = [
            b.code
            for b in pipeline.blockers(
                application, "complete_debrief", actor="maria", requisition=requisition
            )
        ]
        assert ["scorecards_missing"] == codes

    def test_the_next_round_has_its_own_focus(self):
        """Round 2 must rate system design; round 1's focus no longer applies."""
        pipeline, requisition, application = panel(interviewers=("alice",))
        submit(pipeline, requisition, application, "alice", python=4, communication=4)
        pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)
        pipeline.fire(
            application,
            "schedule_next_round",
            actor="maria",
            requisition=requisition,
            interviewers=["dave"],
        )
        pipeline.clock.advance(hours=2)
        pipeline.fire(application, "round_held", actor="maria", requisition=requisition)
        pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
        submit(pipeline, requisition, application, "dave", python=4)
        (blocker,) = pipeline.blockers(
            application, "complete_debrief", actor="maria", requisition=requisition
        )
        assert (["system_design"], 2) == (blocker.data["missing"], blocker.data["round"])
        submit(pipeline, requisition, application, "dave", system_design=3)
        pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)
        assert "review" == application.stage

    def test_a_round_without_focus_needs_only_the_recommendation(self):
        """A scheme with no focus for the round leaves the debrief as it was."""
        scheme = SCHEME.model_copy(update={"focus": {}})
        pipeline, requisition, application = panel(standard_policy(structured_scorecards=scheme))
        for person in ("alice", "bob", "carol"):
            submit(pipeline, requisition, application, person)
        pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)
        assert "review" == application.stage

    def test_the_testing_kit_rates_the_focus(self):
        """make_application takes a structured-scorecard application through its debriefs."""
        pipeline = Pipeline(POLICY, clock=FakeClock(START))
        application = make_application(pipeline, make_requisition(), stage="hired")
        assert "hired" == application.stage
        assert {"python", "communication"} == {
            r.attribute for card in application.scorecards for r in card.ratings
        }


class TestRatings:
    @pytest.mark.parametrize(
        ("ratings", "code"),
        [
            ({"python": 5}, "rating_off_scale"),
            ({"python": 0}, "rating_off_scale"),
            ({"python": "3"}, "rating_off_scale"),
            ({"charisma": 3}, "unknown_attribute"),
        ],
        ids=["above", "below", "label-on-a-numeric-scale", "unknown-attribute"],
    )
    def test_bad_ratings_are_refused_and_change_nothing(self, ratings, code):
        """A rating off the scale or of an unknown attribute: refused, the application as it was."""
        pipeline, requisition, application = panel()
        before = application.model_dump_json()
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(
                application,
                "submit_scorecard",
                actor="alice",
                requisition=requisition,
                recommendation="yes",
                ratings=ratings,
            )
        assert (code,) == caught.value.codes
        assert before == application.model_dump_json()

    def test_message_names_the_scale_and_the_attributes(self):
        """The blockers say which levels and which attributes exist."""
        pipeline, requisition, application = panel()
        blockers = pipeline.blockers(
            application,
            "submit_scorecard",
            actor="alice",
            requisition=requisition,
            recommendation="yes",
            ratings={"python": 7, "charisma": 2},
        )
        messages = {b.code: b.message for b in blockers}
        assert "1, 2, 3, 4" in messages["rating_off_scale"]
        assert "python=7" in messages["rating_off_scale"]
        assert "charisma" in messages["unknown_attribute"]
        assert "system_design" in messages["unknown_attribute"]

    def test_an_attribute_rated_twice_is_refused(self):
        """A list naming one attribute twice fails validation before any guard."""
        pipeline, requisition, application = panel()
        with pytest.raises(ValidationError, match="python more than once"):
            pipeline.fire(
                application,
                "submit_scorecard",
                actor="alice",
                requisition=requisition,
                recommendation="yes",
                ratings=[
                    {"attribute": "python", "rating": 3},
                    {"attribute": "python", "rating": 4},
                ],
            )
        assert () == application.scorecards

    def test_a_rating_filed_under_another_attribute_is_refused(self):
        """{"python": {"attribute": "degree", ...}} is a contradiction, not a degree rating."""
        pipeline, requisition, application = panel()
        with pytest.raises(ValidationError, match="under its own attribute"):
            submit(
                pipeline, requisition, application, "alice",
                python={"attribute": "degree", "rating": 4},
            )  # fmt: skip
        assert () == application.scorecards

    def test_ratings_with_notes(self):
        """A rating may carry notes; the scorecard keeps both, the record the validated data."""
        pipeline, requisition, application = panel()
        submit(
            pipeline,
            requisition,
            application,
            "alice",
            python={"rating": 4, "notes": "refactored the kata cleanly"},
            communication=3,
        )
        (card,) = application.scorecards
        assert AttributeRating(
            attribute="python", rating=4, notes="refactored the kata cleanly"
        ) == (card.rating_of("python"))
        assert 3 == card.rating_of("communication").rating
        assert card.rating_of("degree") is None
        assert {"attribute": "communication", "rating": 3} in application.history[-1].data[
            "ratings"
        ]

    def test_a_labelled_scale(self):
        """On the recommendation's own labels, 'yes' is a rating and 'maybe' is not."""
        scheme = ScorecardScheme(
            attributes=[{"name": "python", "category": "skills"}], focus={1: ["python"]}
        )
        pipeline, requisition, application = panel(
            standard_policy(structured_scorecards=scheme), interviewers=("alice",)
        )
        with pytest.raises(GuardRejected, match="strong_no, no, mixed, yes, strong_yes"):
            submit(pipeline, requisition, application, "alice", python="maybe")
        submit(pipeline, requisition, application, "alice", python="strong_yes")
        assert (2.0, -2.0) == (scheme.score("strong_yes"), scheme.score("strong_no"))
        pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)

    def test_nobody_rates_in_anothers_name(self):
        """Alice cannot submit Bob's ratings: the scorecard is its author's own."""
        pipeline, requisition, application = panel()
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(
                application,
                "submit_scorecard",
                actor="alice",
                requisition=requisition,
                interviewer="bob",
                recommendation="no",
                ratings={"python": 1},
            )
        assert ("acting_for_another",) == caught.value.codes
        assert () == application.scorecards


class TestPlainScorecards:
    def test_the_plain_standard_policy_is_unchanged(self):
        """Without a scheme the standard policy's document, guards and data are as before."""
        plain = standard_policy()
        assert "scorecard" not in plain.to_dict()["settings"]
        assert "focus_attributes_rated" not in plain.to_toml()
        assert "ratings" not in plain.events["submit_scorecard"].data_model.model_fields

    def test_a_plain_policy_refuses_ratings(self):
        """Ratings sent to a policy without structured scorecards are an unknown key."""
        pipeline, requisition, application = panel(standard_policy())
        with pytest.raises(ValidationError, match="ratings"):
            submit(pipeline, requisition, application, "alice", python=3)

    def test_old_scorecards_load(self):
        """An application stored before ratings existed loads, with no ratings."""
        pipeline, requisition, application = panel(standard_policy())
        submit(pipeline, requisition, application, "alice")
        document = json.loads(application.model_dump_json())
        for card in document["scorecards"]:
            del card["ratings"]
        loaded = Application.model_validate_json(json.dumps(document))
        assert () == loaded.scorecards[0].ratings
        assert loaded == application

    def test_a_scorecard_refuses_an_attribute_twice(self):
        """The model itself refuses two ratings of one attribute."""
        with pytest.raises(ValidationError, match="rate each attribute once"):
            Scorecard(
                interviewer="alice",
                round=1,
                recommendation="yes",
                submitted_at=START,
                ratings=[
                    AttributeRating(attribute="python", rating=3),
                    AttributeRating(attribute="python", rating=1),
                ],
            )


class TestSchemeAsPolicyData:
    @pytest.mark.parametrize("suffix", [".toml", ".json", ".yaml"], ids=str)
    def test_round_trip(self, tmp_path, suffix):
        """The policy with structured scorecards loads back equal from each format."""
        document = POLICY.to_dict()
        text = {
            ".toml": POLICY.to_toml(),
            ".json": json.dumps(document),
            ".yaml": yaml.safe_dump(document),
        }[suffix]
        path = tmp_path / f"policy{suffix}"
        path.write_text(text, encoding="utf-8")
        loaded = Policy.from_file(path)
        assert POLICY == loaded
        assert SCHEME == loaded.settings.scorecard
        assert ("python", "communication") == loaded.settings.scorecard.focus_of(1)

    def test_a_loaded_policy_checks_ratings(self, tmp_path):
        """The guards come back by name: a loaded policy blocks as the built one does."""
        path = tmp_path / "policy.toml"
        path.write_text(POLICY.to_toml(), encoding="utf-8")
        pipeline, requisition, application = panel(Policy.from_file(path))
        with pytest.raises(GuardRejected, match="not on the scale"):
            submit(pipeline, requisition, application, "alice", python=9)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"focus": {"1": ["charisma"]}}, "focus of round 1 names charisma"),
            ({"rank_by": ["charisma"]}, "rank_by names charisma"),
            (
                {"attributes": [{"name": "python", "category": "vibes"}]},
                "category 'vibes', which is not one of",
            ),
            ({"scale": [1, "two"]}, "mixes numbers and labels"),
            ({"scale": [4, 3, 2, 1]}, "rising order"),
            ({"scale": [1]}, "at least 2"),
            ({"attributes": [{"name": "overall", "category": "skills"}]}, "name it otherwise"),
            ({"focus": {"0": ["python"]}}, "greater than or equal to 1"),
        ],
        ids=[
            "focus-unknown",
            "rank-by-unknown",
            "category-unknown",
            "scale-mixed",
            "scale-order",
            "scale-short",
            "reserved-name",
            "round-zero",
        ],
    )
    def test_load_refuses_a_broken_scheme(self, change, message):
        """Each broken scheme is a PolicyError at settings.scorecard, saying what is wrong."""
        document = POLICY.to_dict()
        document["settings"]["scorecard"].update(change)
        with pytest.raises(PolicyError) as caught:
            Policy.from_dict(document)
        (problem,) = caught.value.problems
        assert "settings.scorecard" in problem.where
        assert message in problem.message

    def test_ranking_by_attributes_needs_them(self):
        """A ranking by "attributes" without a scheme to name them is refused at load."""
        document = standard_policy().to_dict()
        document["settings"]["ranking"] = "attributes"
        with pytest.raises(PolicyError, match="no scorecard scheme"):
            Policy.from_dict(document)

    def test_ranking_by_attributes_needs_rank_by(self):
        """A scheme with no rank_by cannot back the "attributes" ranking."""
        scheme = SCHEME.model_copy(update={"rank_by": ()})
        with pytest.raises(PolicyError, match="rank_by is empty"):
            standard_policy(structured_scorecards=scheme).with_setting(ranking="attributes")

    def test_a_policy_names_its_own_categories(self):
        """Categories are the policy's: craft and values instead of the default three."""
        scheme = ScorecardScheme(
            categories=["craft", "values"],
            attributes=[
                {"name": "testing", "category": "craft"},
                {"name": "candour", "category": "values"},
            ],
            focus={1: ["candour"]},
        )
        loaded = Policy.from_dict(standard_policy(structured_scorecards=scheme).to_dict())
        assert ("craft", "values") == loaded.settings.scorecard.categories
        with pytest.raises(ValidationError, match="category 'skills', which is not one of"):
            ScorecardScheme(
                categories=["craft", "values"],
                attributes=[{"name": "python", "category": "skills"}],
            )

    def test_settings_alone_turn_the_feature_on(self):
        """A scheme in the settings is enough: the standard policy adds the guards itself."""
        policy = standard_policy(PolicySettings(scorecard=SCHEME))
        assert policy == POLICY
        assert policy == with_structured_scorecards(policy)  # twice changes nothing more
        assert StructuredScorecardData is policy.events["submit_scorecard"].data_model

    def test_no_scheme_no_feature(self):
        """Turning structured scorecards on without a scheme is a clear error."""
        with pytest.raises(PolicyError, match="need a scorecard scheme"):
            with_structured_scorecards(standard_policy())

    def test_diagram_shows_the_focus_guard(self):
        """The debrief's edge carries the focus guard in Mermaid and DOT."""
        assert "complete_debrief [scorecards_complete, focus_attributes_rated]" in (
            POLICY.to_mermaid()
        )
        assert "focus_attributes_rated" in POLICY.to_dot()


def ranked_slate(ratings_by_candidate, *, policy=RANKED):
    """A slate in review: each candidate rated by alice and bob as given (same recommendation)."""
    clock = FakeClock(START)
    pipeline = Pipeline(policy, clock=clock)
    requisition = make_requisition(headcount=1)
    slate = Slate(pipeline, requisition)
    ids = []
    for number, (recommendation, ratings) in enumerate(ratings_by_candidate, start=1):
        application = slate.new_application(
            make_candidate(number), interviewers=["alice", "bob"], application_id=f"app-{number}"
        )
        slate.fire(application.id, "start_debrief", actor="maria")
        for person in ("alice", "bob"):
            clock.advance(minutes=1)
            slate.fire(
                application.id,
                "submit_scorecard",
                actor=person,
                recommendation=recommendation,
                ratings={"python": 3, "communication": 3, **ratings},
            )
        slate.fire(application.id, "complete_debrief", actor="maria")
        ids.append(application.id)
    return slate, ids


class TestRanking:
    def test_a_slate_ranked_by_system_design(self):
        """Ranked by system design, the best designer leads though others were more enthusiastic."""
        slate, (eager, designer, unrated) = ranked_slate(
            [
                ("strong_yes", {"system_design": 2}),
                ("yes", {"system_design": 4}),
                ("strong_yes", {}),
            ]
        )
        assert [designer, eager, unrated] == [r.application.id for r in slate.ranking()]
        # the policy's plain ranking still orders by the overall recommendation
        plain = Slate(
            Pipeline(POLICY.with_setting(ranking="mean_recommendation"), clock=FakeClock(START)),
            slate.requisition,
            list(slate),
        )
        assert designer == plain.ranking()[-1].application.id

    def test_ties_on_the_attribute_fall_back_to_the_recommendation(self):
        """Equal system design: the stronger overall recommendation ranks first."""
        slate, (lukewarm, keen) = ranked_slate(
            [("yes", {"system_design": 3}), ("strong_yes", {"system_design": 3})]
        )
        assert [keen, lukewarm] == [r.application.id for r in slate.ranking()]

    def test_a_ranking_by_other_named_attributes(self):
        """by_attributes ranks by any attributes named; unrated ones tie, in slate order."""
        slate, (quiet, talker) = ranked_slate(
            [("yes", {"communication": 1, "python": 4}), ("yes", {"communication": 4})]
        )
        assert [quiet, talker] == [r.application.id for r in slate.ranking()]  # no system design
        for names, expected in (
            (("communication",), [talker, quiet]),
            (("python",), [quiet, talker]),
        ):
            by_names = Slate(
                slate.pipeline,
                slate.requisition,
                list(slate),
                ranking=by_attributes(SCHEME, *names),
            )
            assert expected == [r.application.id for r in by_names.ranking()]
        with pytest.raises(PolicyError, match="no attribute charisma"):
            by_attributes(SCHEME, "charisma")


LEVELS = st.sampled_from([None, 1, 2, 3, 4])


@st.composite
def rated_applications(draw):
    """Applications with a few scorecards each: few levels, so ties are common."""
    count = draw(st.integers(min_value=0, max_value=8))
    applications = []
    for number in range(1, count + 1):
        cards = []
        for person in draw(st.lists(st.sampled_from(["alice", "bob", "carol"]), max_size=3)):
            level = draw(LEVELS)
            cards.append(
                Scorecard(
                    interviewer=person,
                    round=1,
                    recommendation=draw(st.sampled_from(["no", "yes", "strong_yes"])),
                    submitted_at=START,
                    ratings=()
                    if level is None
                    else (AttributeRating(attribute="system_design", rating=level),),
                )
            )
        applications.append(
            Application(
                id=f"app-{number}",
                candidate=make_candidate(number),
                requisition_id="req-1",
                stage="review",
                created_at=START,
                scorecards=tuple(cards),
            )
        )
    return applications


class TestRankingProperties:
    @settings(max_examples=150, deadline=None)
    @given(rated_applications())
    def test_a_permutation_stable_for_ties(self, applications):
        """The ranking holds every application once, best first, ties in slate order."""
        pipeline = Pipeline(RANKED, clock=FakeClock(START))
        slate = Slate(pipeline, make_requisition(), applications)
        ranked = slate.ranking(applications)
        assert sorted(a.id for a in applications) == sorted(r.application.id for r in ranked)
        position = {a.id: index for index, a in enumerate(applications)}
        for first, second in itertools.pairwise(ranked):
            assert first.key >= second.key
            if first.key == second.key:
                assert position[first.application.id] < position[second.application.id]


class TestCalibration:
    def test_a_harsh_interviewer_shows_up(self):
        """Over four candidates, Hal rates a point and a half below his panels on system design."""
        slate_ratings = [(3, 3, 1), (4, 3, 2), (2, 3, 1), (4, 4, 2)]  # alice, bob, hal
        clock = FakeClock(START)
        pipeline = Pipeline(POLICY, clock=clock)
        requisition = make_requisition()
        applications = []
        for number, (alice, bob, hal) in enumerate(slate_ratings, start=1):
            application = pipeline.new_application(
                make_candidate(number), requisition, interviewers=("alice", "bob", "hal")
            )
            for person, level in (("alice", alice), ("bob", bob), ("hal", hal)):
                recommendation = "no" if person == "hal" else "yes"
                submit(
                    pipeline,
                    requisition,
                    application,
                    person,
                    recommendation,
                    python=3,
                    communication=3,
                    system_design=level,
                )
            applications.append(application)
        report = calibration(applications, POLICY)
        hal = report.of("hal", "system_design")
        assert (4, 1.5, 12) == (hal.count, hal.mean, hal.panel_count)
        assert hal.difference == pytest.approx(1.5 - 32 / 12)
        # against the others on the same candidates: (1-3)+(2-3.5)+(1-2.5)+(2-4) over 4
        assert -1.75 == hal.peer_difference
        assert hal.peer_difference < report.of("alice", "system_design").peer_difference
        overall = report.of("hal", OVERALL)
        assert (-1.0, -2.0) == (overall.mean, overall.peer_difference)
        harshest = min(
            (row for row in report.rows() if row["attribute"] == "system_design"),
            key=lambda row: row["difference"],
        )
        assert "hal" == harshest["interviewer"]
        python = report.of("hal", "python")
        assert (0.0, 0.0) == (python.difference, python.peer_difference)
        assert 12 == report.scorecards

    def test_rows_for_a_dataframe(self):
        """One flat row per interviewer and attribute, overall first."""
        pandas = pytest.importorskip("pandas")
        pipeline, requisition, application = panel(interviewers=("alice", "bob"))
        submit(pipeline, requisition, application, "alice", python=4, communication=2)
        submit(pipeline, requisition, application, "bob", "no", python=2)
        frame = pandas.DataFrame(calibration([application], POLICY).rows())
        assert ["alice", "alice", "alice", "bob", "bob"] == list(frame["interviewer"])
        assert [OVERALL, "python", "communication", OVERALL, "python"] == list(frame["attribute"])
        alone = frame[(frame["interviewer"] == "alice") & (frame["attribute"] == "communication")]
        assert alone["peer_difference"].isna().all()  # nobody else rated it

    def test_plain_scorecards_calibrate_overall(self):
        """Without a scheme, the report compares the overall recommendations only."""
        pipeline, requisition, application = panel(standard_policy(), interviewers=("a", "b"))
        submit(pipeline, requisition, application, "a", "strong_yes")
        submit(pipeline, requisition, application, "b", "no")
        rows = calibration([application], standard_policy()).rows()
        assert [("a", OVERALL, 1.5), ("b", OVERALL, -1.5)] == [
            (r["interviewer"], r["attribute"], r["difference"]) for r in rows
        ]

    def test_only_the_latest_scorecard_counts(self):
        """A resubmitted scorecard replaces the earlier one in the report."""
        pipeline, requisition, application = panel(interviewers=("alice",))
        submit(pipeline, requisition, application, "alice", "no", python=1)
        submit(pipeline, requisition, application, "alice", "yes", python=4)
        report = calibration([application], POLICY)
        assert (1, 4.0) == (report.of("alice", "python").count, report.of("alice", "python").mean)


class TestCalibrationProperties:
    @settings(max_examples=100, deadline=None)
    @given(rated_applications())
    def test_differences_weighed_by_count_cancel_out(self, applications):
        """Per attribute, the interviewers' differences from the panel, weighed, sum to zero."""
        report = calibration(applications, POLICY)
        for attribute in {c.attribute for c in report.calibrations}:
            rows = [c for c in report.calibrations if c.attribute == attribute]
            assert sum(c.count for c in rows) == rows[0].panel_count
            assert sum(c.count * c.difference for c in rows) == pytest.approx(0, abs=1e-4)


class TestPersonalData:
    def test_blind_view_keeps_ratings_and_drops_notes(self):
        """Ratings show in the blind view; the notes, names and interviewers do not."""
        pipeline, requisition, application = panel(interviewers=("alice",))
        submit(
            pipeline,
            requisition,
            application,
            "alice",
            python={"rating": 4, "notes": "secret observation"},
            communication=3,
        )
        text = json.dumps(blind([application]))
        assert "secret observation" not in text
        assert "alice" not in text
        assert application.candidate.name not in text
        assert {"python": 4, "communication": 3} == blind([application])[0]["recommendations"][0][
            "ratings"
        ]

    def test_erasure_clears_attribute_notes(self):
        """Erasing the candidate's data clears each rating's notes, on the card and in the log."""
        pipeline, requisition, application = panel(interviewers=("alice",))
        submit(
            pipeline,
            requisition,
            application,
            "alice",
            python={"rating": 4, "notes": "mentioned a health condition"},
            communication=3,
        )
        pipeline.fire(application, "withdraw", actor=application.candidate.id)
        pipeline.erase(
            application, actor="maria", requisition=requisition, reason="candidate's request"
        )
        assert "mentioned a health condition" not in application.model_dump_json()
        assert ERASED == application.scorecards[0].rating_of("python").notes
        assert 4 == application.scorecards[0].rating_of("python").rating


def test_salary_is_untouched_by_ratings():
    """A scheme changes scorecards only: a structured walk still reaches an offer in band."""
    pipeline = Pipeline(POLICY, clock=FakeClock(START))
    application = make_application(pipeline, make_requisition(), stage="offer")
    assert Decimal(135_000) == application.offer.salary
