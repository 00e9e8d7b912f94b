"""Keeping in touch after a rejection: consent recorded, an expiry bounded by ``warm_days``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from hirepipe import Blocker, GuardRejected, Pipeline, Policy, Slate, standard_policy
from hirepipe.models import ERASED
from hirepipe.policy import Context, GuardSpec
from hirepipe.privacy import consent_expired
from hirepipe.standard import standard_registry
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from tests.conftest import START
from tests.standard.test_feedback import dump_everywhere

POLICY = standard_policy(keep_in_touch_from_rejection=True)


@pytest.fixture
def world():
    clock = FakeClock(START)
    return Pipeline(POLICY, clock=clock), clock, make_requisition(recruiter="rita")


def rejected(pipeline, requisition, *, consent_to_contact=False):
    """An application rejected after review; the candidate's profile says whether they agreed."""
    candidate = make_candidate(consent_to_contact=consent_to_contact)
    application = make_application(pipeline, requisition, stage="review", candidate=candidate)
    pipeline.fire(
        application,
        "reject",
        actor="maria",
        requisition=requisition,
        reason="stronger_candidate",
        feedback_on_request=True,
    )
    return application


def refused(pipeline, application, requisition, event, **data) -> list[str]:
    """Fire an event that must be refused; check nothing changed; return the codes."""
    before = application.model_dump_json()
    with pytest.raises(GuardRejected) as caught:
        pipeline.fire(application, event, actor="rita", requisition=requisition, **data)
    assert before == application.model_dump_json()
    return list(caught.value.codes)


class TestKeepInTouchFromRejection:
    def test_kept_in_touch_with_consent_until_an_expiry(self, world):
        """With consent, a rejected candidate joins the talent pool until a bounded date."""
        pipeline, clock, requisition = world
        application = rejected(pipeline, requisition)
        until = clock.now().add(days=90)
        record = pipeline.fire(
            application,
            "keep_warm",
            actor="rita",
            requisition=requisition,
            warm_until=until,
            consent=True,
        ).record
        assert ("rejected", "talent_pool") == (record.from_stage, record.to_stage)
        assert {"warm_until": until.isoformat(), "consent": True, "consent_basis": "event"} == (
            record.data
        )
        assert (until, "stronger_candidate") == (
            application.warm_until,
            application.rejection.reason,
        )
        assert [] == consent_expired([application], POLICY, clock.now())
        assert [application] == consent_expired([application], POLICY, until)

    def test_consent_from_the_profile_is_recorded_as_such(self, world):
        """A candidate who agreed on their profile needs no consent in the event; it says so."""
        pipeline, clock, requisition = world
        application = rejected(pipeline, requisition, consent_to_contact=True)
        record = pipeline.fire(
            application,
            "keep_warm",
            actor="rita",
            requisition=requisition,
            warm_until=clock.now().add(days=30),
        ).record
        assert "candidate_profile" == record.data["consent_basis"]

    def test_refused_without_consent(self, world):
        """No consent, no talent pool: a clear blocker, the application unchanged."""
        pipeline, clock, requisition = world
        application = rejected(pipeline, requisition)
        codes = refused(
            pipeline, application, requisition, "keep_warm", warm_until=clock.now().add(days=30)
        )
        assert ["consent_missing"] == codes
        assert "rejected" == application.stage

    def test_an_explicit_no_outweighs_the_profile(self, world):
        """``consent=False`` in the event is a refusal, whatever the profile says."""
        pipeline, clock, requisition = world
        application = rejected(pipeline, requisition, consent_to_contact=True)
        codes = refused(
            pipeline,
            application,
            requisition,
            "keep_warm",
            warm_until=clock.now().add(days=30),
            consent=False,
        )
        assert ["consent_refused"] == codes

    @pytest.mark.parametrize("event", ["keep_warm", "renew_consent"])
    def test_a_policy_saved_with_the_old_refusal_guard_refuses_once(self, world, event):
        """Saved before ``warm_until_set`` asked it, a policy names ``consent_not_refused`` too.

        The refusal is said once; alone on an event, the old guard still refuses.
        """
        _, clock, requisition = world
        document = POLICY.to_dict()
        for spec in document["events"]:
            if spec["name"] in ("keep_warm", "renew_consent"):
                spec["guards"].insert(1, "consent_not_refused")  # as the part saved it
        saved = Policy.from_dict(document, registry=standard_registry())
        alone = Policy.from_dict(
            {
                **document,
                "events": [
                    {**spec, "guards": ["consent_not_refused"]}
                    if spec["name"] in ("keep_warm", "renew_consent")
                    else spec
                    for spec in document["events"]
                ],
            },
            registry=standard_registry(),
        )
        for policy in (saved, alone):
            pipeline = Pipeline(policy, clock=clock)
            application = rejected(pipeline, requisition, consent_to_contact=True)
            if event == "renew_consent":
                pipeline.fire(
                    application,
                    "keep_warm",
                    actor="rita",
                    requisition=requisition,
                    warm_until=clock.now().add(days=10),
                )
            actor = application.candidate.id if event == "renew_consent" else "rita"
            with pytest.raises(GuardRejected) as caught:
                pipeline.fire(
                    application,
                    event,
                    actor=actor,
                    requisition=requisition,
                    warm_until=clock.now().add(days=30),
                    consent=False,
                )
            assert ["consent_refused"] == list(caught.value.codes)

    def test_the_old_refusal_guard_refuses_next_to_a_warm_until_set_of_a_companys_own(self, world):
        """A company's own guard named ``warm_until_set`` need not ask consent: the old guard does.

        ``consent_not_refused`` stayed silent next to any guard of that name, and keep_warm
        with ``consent=False`` applied: the candidate kept warm against their refusal.
        """
        _, clock, requisition = world

        def own_warm_until_set(ctx: Context) -> Iterator[Blocker]:
            if ctx.data.value("warm_until") is None:
                yield Blocker("warm_until_missing", "give a warm-until date")

        spec = POLICY.events["keep_warm"]
        guards = [
            GuardSpec("warm_until_set", own_warm_until_set) if g.name == "warm_until_set" else g
            for g in spec.guards
        ]
        policy = POLICY.with_event(
            replace(spec, guards=(*guards, standard_registry().guards["consent_not_refused"]))
        )
        pipeline = Pipeline(policy, clock=clock)
        application = rejected(pipeline, requisition, consent_to_contact=True)
        codes = refused(
            pipeline,
            application,
            requisition,
            "keep_warm",
            warm_until=clock.now().add(days=30),
            consent=False,
        )
        assert ["consent_refused"] == codes

    @pytest.mark.parametrize("event", ["keep_warm", "renew_consent"])
    def test_expiry_bounded_by_warm_days(self, world, event):
        """warm_until past ``warm_days`` is refused, for keeping warm and renewing alike."""
        pipeline, clock, requisition = world
        application = rejected(pipeline, requisition)
        if event == "renew_consent":
            pipeline.fire(
                application,
                "keep_warm",
                actor="rita",
                requisition=requisition,
                warm_until=clock.now().add(days=10),
                consent=True,
            )
        days = POLICY.settings.warm_days
        late = clock.now().add(days=days, minutes=1)
        codes = refused(
            pipeline,
            application,
            requisition,
            event,
            warm_until=late,
            consent=True,
            **({"on_behalf_of": "cand-1"} if event == "renew_consent" else {}),
        )
        assert ["warm_until_too_late"] == codes
        fine = clock.now().add(days=days)
        pipeline.fire(
            application,
            event,
            actor="rita",
            requisition=requisition,
            warm_until=fine,
            consent=True,
            **({"on_behalf_of": "cand-1"} if event == "renew_consent" else {}),
        )
        assert fine == application.warm_until

    def test_renewal_moves_the_expiry_and_the_candidate_renews_their_own(self, world):
        """The candidate renews their consent; the pool period moves on; consent is current."""
        pipeline, clock, requisition = world
        application = rejected(pipeline, requisition)
        pipeline.fire(
            application,
            "keep_warm",
            actor="rita",
            requisition=requisition,
            warm_until=clock.now().add(days=30),
            consent=True,
        )
        clock.advance(days=29)
        later = clock.now().add(days=60)
        record = pipeline.fire(
            application, "renew_consent", actor="cand-1", warm_until=later, consent=True
        ).record
        assert ("cand-1", later) == (record.actor, application.warm_until)
        clock.advance(days=2)
        assert [] == consent_expired([application], POLICY, clock.now())

    def test_expired_consent_ends_in_erasure(self, world):
        """Consent lapsed: the candidate leaves the pool and their data is erased."""
        pipeline, clock, requisition = world
        application = rejected(pipeline, requisition)
        pipeline.fire(
            application,
            "keep_warm",
            actor="rita",
            requisition=requisition,
            warm_until=clock.now().add(days=30),
            consent=True,
        )
        clock.advance(days=31)
        assert [application] == consent_expired([application], POLICY, clock.now())
        pipeline.fire(
            application,
            "withdraw",
            actor="rita",
            requisition=requisition,
            on_behalf_of="cand-1",
            text="consent lapsed",
        )
        pipeline.erase(application, actor="maria", requisition=requisition, reason="consent lapsed")
        assert ERASED == application.candidate.name
        assert "talent_pool" in application.stages_visited()

    def test_reactivated_into_a_new_requisition(self, world):
        """Kept in touch after a rejection, the candidate is considered for a later role."""
        pipeline, clock, requisition = world
        application = rejected(pipeline, requisition)
        pipeline.fire(
            application,
            "keep_warm",
            actor="rita",
            requisition=requisition,
            warm_until=clock.now().add(days=30),
            consent=True,
        )
        later = make_requisition(id="req-2", recruiter="rita")
        pipeline.fire(application, "reactivate", actor="rita", requisition=later)
        assert ("review", "req-2", None) == (
            application.stage,
            application.requisition_id,
            application.rejection,
        )


class TestOptional:
    def test_off_by_default(self):
        """Without the flag, keep_warm does not lead from a rejection."""
        assert "rejected" not in standard_policy().events["keep_warm"].sources
        assert "rejected" in POLICY.events["keep_warm"].sources

    def test_round_trips(self, tmp_path):
        """The policy loads back equal from TOML, YAML and JSON, its guards resolved."""
        for path in dump_everywhere(POLICY, tmp_path):
            assert POLICY == Policy.from_file(path, registry=standard_registry())

    def test_diagram_shows_the_way_from_rejection_to_the_pool(self):
        """The diagram draws rejected --> talent_pool."""
        assert "rejected --> talent_pool" in POLICY.to_mermaid()
        assert "rejected --> talent_pool" not in standard_policy().to_mermaid()


class TestBackIntoTheProcess:
    def test_kept_in_touch_after_a_rejection_is_no_runner_up(self, world):
        """A fall-through passes over a pooled candidate this requisition rejected."""
        pipeline, clock, requisition = world
        chosen = make_application(pipeline, requisition, stage="review")
        other = rejected(pipeline, requisition)
        pipeline.fire(
            other,
            "keep_warm",
            actor="rita",
            requisition=requisition,
            warm_until=clock.now().add(days=30),
            consent=True,
        )
        pipeline.fire(chosen, "withdraw", actor="cand-1", requisition=requisition)
        slate = Slate(pipeline, requisition, [chosen, other])
        assert [] == slate.fall_through()
        assert "talent_pool" == other.stage

    def test_back_into_the_same_requisition_needs_a_reason(self, world):
        """Reactivating into the requisition that rejected them is an audited reopening."""
        pipeline, clock, requisition = world
        application = rejected(pipeline, requisition)
        pipeline.fire(
            application,
            "keep_warm",
            actor="rita",
            requisition=requisition,
            warm_until=clock.now().add(days=30),
            consent=True,
        )
        assert ["reason_missing"] == refused(pipeline, application, requisition, "reactivate")
        record = pipeline.fire(
            application,
            "reactivate",
            actor="rita",
            requisition=requisition,
            reason="the first choice withdrew",
        ).record
        assert ("review", "the first choice withdrew") == (application.stage, record.reason)
