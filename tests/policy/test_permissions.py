"""Who may fire an event: roles resolved from the requisition and the application, as data."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection
from typing import ClassVar

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hirepipe import (
    ApprovalStep,
    EventData,
    EventSpec,
    GuardRejected,
    Pipeline,
    Policy,
    PolicyError,
    Role,
    StageKind,
    StageSpec,
    standard_policy,
)
from hirepipe.models import Substitution
from hirepipe.policy import SYSTEM_ACTOR, requisition_roles
from hirepipe.policy._permissions import (
    permission_blockers,
    permitted_as_themselves,
    permitted_by_fields,
)
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from tests.conftest import START

STANDARD = standard_policy()


def two_stage_policy(**event: object) -> Policy:
    """A policy of one event, ``go``, with the permissions given."""
    return Policy(
        name="p",
        version="1",
        initial="a",
        stages=[StageSpec("a"), StageSpec("b", StageKind.terminal)],
        events=[EventSpec("go", ("a",), "b", **event)],  # type: ignore[arg-type]
    )


class TestRequisitionRoles:
    @pytest.mark.parametrize(
        ("actor", "expected"),
        [
            ("maria", {"hiring_manager"}),
            ("rita", {"recruiter"}),
            ("cfo", {"approver"}),
            ("alice", {"interviewer"}),
            ("cand-1", {"candidate"}),
            ("mallory", set()),
        ],
        ids=["manager", "recruiter", "approver", "interviewer", "candidate", "stranger"],
    )
    def test_each_role_from_its_field(self, actor, expected):
        """Each role comes from one field of the requisition or the application."""
        requisition = make_requisition(recruiter="rita")
        application = Pipeline(clock=FakeClock(START)).new_application(
            make_candidate(), requisition, interviewers=["alice"]
        )
        assert expected == set(requisition_roles(actor, application, requisition))

    def test_without_the_requisition_only_the_applications_roles(self):
        """With no requisition, nobody is its manager, recruiter or approver."""
        requisition = make_requisition()
        application = Pipeline(clock=FakeClock(START)).new_application(
            make_candidate(), requisition, interviewers=["maria"]
        )
        assert {"interviewer"} == set(requisition_roles("maria", application, None))
        assert set() == set(requisition_roles("cfo", application, None))

    def test_a_chain_replaces_the_approvers_list(self):
        """With an approval chain, its approvers approve; the approvers list does not count."""
        requisition = make_requisition(
            approvers=["old-cfo"],
            approval_chain=(ApprovalStep(name="finance", approvers=("vp", "cfo"), required=1),),
        )
        application = Pipeline(clock=FakeClock(START)).new_application(
            make_candidate(), requisition
        )
        assert ({"approver"}, set()) == (
            set(requisition_roles("vp", application, requisition)),
            set(requisition_roles("old-cfo", application, requisition)),
        )

    def test_a_substitute_approves(self):
        """The deputy named for an absent approver holds the approver role on that application."""
        requisition = make_requisition()
        application = Pipeline(clock=FakeClock(START)).new_application(
            make_candidate(), requisition
        )
        application.substitutions = (
            Substitution(step="step-1", absent="cfo", substitute="deputy", reason="x", at=START),
        )
        assert {"approver"} == set(requisition_roles("deputy", application, requisition))


class TestDefinition:
    def test_events_are_open_to_anyone_unless_they_say(self):
        """An event that names no roles may be fired by anyone (a company's own, say)."""
        assert (Role.anyone,) == EventSpec("go", ("a",), "b").fired_by

    def test_no_role_is_refused(self):
        """An event nobody may fire is a policy problem."""
        with pytest.raises(PolicyError, match=r"events\.go\.fired_by: nobody may fire it"):
            two_stage_policy(fired_by=())

    @pytest.mark.parametrize("role", ["", "hiring manager", "x" * 101, 7], ids=repr)
    def test_role_names_are_checked(self, role):
        """A role name is letters, digits, '_' and '-'; anything else is a policy problem."""
        with pytest.raises(PolicyError, match="is not a role name"):
            two_stage_policy(on_behalf=(role,))

    def test_a_hosts_own_role_is_a_name(self):
        """A policy may grant an event to a role of the host's own."""
        policy = two_stage_policy(fired_by=("hr-admin",))
        assert ("hr-admin",) == policy.events["go"].fired_by

    def test_person_field_must_name_a_field(self):
        """A data model naming a person field it lacks is refused when it is defined."""
        with pytest.raises(TypeError, match="'author'"):

            class Broken(EventData):
                person_field: ClassVar[str | None] = "author"
                verdict: str = ""

    def test_with_permissions(self):
        """Roles are replaced per event; the rest stays; the original never changes."""
        policy = STANDARD.with_permissions("record_approval", on_behalf=["recruiter"])
        assert (("recruiter",), ("approver",)) == (
            policy.events["record_approval"].on_behalf,
            policy.events["record_approval"].fired_by,
        )
        assert () == STANDARD.events["record_approval"].on_behalf
        assert policy.events["approve"] == STANDARD.events["approve"]

    @pytest.mark.parametrize(
        ("event", "roles", "message"),
        [("nope", ["recruiter"], "unknown event"), ("approve", "recruiter", "as a list")],
        ids=["unknown-event", "a-string"],
    )
    def test_with_permissions_refusals(self, event, roles, message):
        """An unknown event, or one role given as a string, is a policy problem."""
        with pytest.raises(PolicyError, match=message):
            STANDARD.with_permissions(event, fired_by=roles)

    def test_an_inserted_stage_is_entered_by_who_left_the_one_before(self):
        """with_stage's new event is fired by whoever moved an application on from before it."""
        policy = STANDARD.with_stage("assessment", after="debrief")
        assert STANDARD.events["complete_debrief"].fired_by == (
            policy.events["start_assessment"].fired_by
        )

    def test_a_removed_stage_is_bypassed_by_who_fired_the_way_in(self):
        """Without approval, approve fires from review: whoever asked for approval may too."""
        policy = STANDARD.without_stage("approval")
        assert ("review",) == policy.sources("approve")
        assert ("hiring_manager", "recruiter", "approver", "system") == (
            policy.events["approve"].fired_by
        )


class TestDocuments:
    def test_permissions_round_trip_through_every_format(self, tmp_path):
        """fired_by and on_behalf survive TOML, YAML and JSON, and the dict form."""
        policy = STANDARD.with_permissions(
            "record_approval", fired_by=["approver", "hr-admin"], on_behalf=["recruiter"]
        )
        document = policy.to_dict()
        (approval,) = [e for e in document["events"] if e["name"] == "record_approval"]
        assert (["approver", "hr-admin"], ["recruiter"]) == (
            approval["fired_by"],
            approval["on_behalf"],
        )
        for suffix, text in (
            (".toml", policy.to_toml()),
            (".yaml", yaml.safe_dump(document)),
            (".json", json.dumps(document)),
        ):
            path = tmp_path / f"policy{suffix}"
            path.write_text(text, encoding="utf-8")
            assert policy == Policy.from_file(path)

    def test_a_document_without_permissions_lets_anyone_fire(self):
        """An event written without fired_by is open to all, as in code."""
        document = two_stage_policy().to_dict()
        del document["events"][0]["fired_by"]
        assert (Role.anyone,) == Policy.from_dict(document).events["go"].fired_by

    def test_bad_roles_in_a_file_name_the_key(self, tmp_path):
        """A role list that is not a list of strings is refused with its place in the file."""
        document = two_stage_policy().to_dict()
        document["events"][0]["fired_by"] = "recruiter"
        with pytest.raises(PolicyError, match=r"events\[0\]\.fired_by"):
            Policy.from_dict(document)


class TestPipeline:
    def test_a_hosts_roles_function_decides(self):
        """The host maps its own groups to roles: hannah of HR operations acts as recruiter."""

        def roles(actor, application, requisition):
            held = set(requisition_roles(actor, application, requisition))
            return held | ({"recruiter"} if actor == "hannah" else set())

        pipeline = Pipeline(STANDARD, clock=FakeClock(START), roles=roles)
        requisition = make_requisition()
        application = make_application(pipeline, requisition)
        record = pipeline.fire(
            application, "start_debrief", actor="hannah", requisition=requisition
        ).record
        assert "hannah" == record.actor

    def test_a_roles_function_returning_a_string_is_refused(self):
        """A string is not a collection of roles: "hiring_manager_assistant" holds none."""
        pipeline = Pipeline(
            STANDARD, clock=FakeClock(START), roles=lambda *_: "hiring_manager_assistant"
        )
        requisition = make_requisition()
        application = pipeline.new_application(make_candidate(), requisition)
        with pytest.raises(TypeError, match="collection of role names"):
            pipeline.fire(application, "start_debrief", actor="eve", requisition=requisition)
        assert 0 == application.version

    def test_the_system_actor_holds_the_system_role_whatever_the_roles_function(self):
        """The pipeline's own actor may sweep even when the host's function knows nobody."""

        def people_only(actor, application, requisition):
            return requisition_roles(actor, application, requisition)  # never "system"

        pipeline = Pipeline(STANDARD, clock=FakeClock(START), roles=people_only, system_actor="bot")
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="offer")
        pipeline.clock.advance(days=60)
        assert [] == pipeline.blockers(application, "expire", requisition=requisition, actor="bot")
        (blocker,) = pipeline.blockers(
            application, "expire", requisition=requisition, actor="hirepipe"
        )
        assert "not_permitted" == blocker.code

    def test_the_system_actor_is_an_identifier(self):
        """An empty system actor is refused when the pipeline is built."""
        with pytest.raises(ValueError, match="not an identifier"):
            Pipeline(STANDARD, system_actor="  ")

    def test_blockers_for_someone_not_permitted_are_only_that(self):
        """A stranger learns they may not, not which scorecards are missing."""
        pipeline = Pipeline(STANDARD, clock=FakeClock(START))
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="debrief")
        codes = [
            b.code
            for b in pipeline.blockers(
                application, "complete_debrief", requisition=requisition, actor="mallory"
            )
        ]
        assert ["not_permitted"] == codes
        anyone = [b.code for b in pipeline.blockers(application, "complete_debrief")]
        assert ["scorecards_missing"] == anyone

    def test_without_the_requisition_a_managers_role_needs_it(self):
        """The manager's role is read from the requisition: without it, pass it (needs_input)."""
        pipeline = Pipeline(STANDARD, clock=FakeClock(START))
        requisition = make_requisition()
        application = make_application(pipeline, requisition)
        (blocker,) = pipeline.blockers(application, "start_debrief", actor="maria")
        assert ("requisition_required", True) == (blocker.code, blocker.needs_input)
        assert "start_debrief" in pipeline.available(application, actor="maria")
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(application, "start_debrief", actor="maria")
        assert ("requisition_required",) == caught.value.codes
        assert 0 == application.version

    def test_available_for_each_person(self):
        """Each person sees only the events they may fire."""
        pipeline = Pipeline(STANDARD, clock=FakeClock(START))
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="offer")

        def mine(actor):
            return pipeline.available(
                application, requisition=requisition, actor=actor, activities=True
            )

        assert ["counter", "accept", "decline", "withdraw", "thank_you_received", "inquiry"] == (
            mine("cand-1")
        )
        assert [] == mine("mallory")
        assert {"revise_offer", "accept", "counter"}.isdisjoint(mine("maria"))

    def test_an_effect_cannot_rewrite_who_was_acted_for(self):
        """The record's on_behalf_of is the engine's, whatever an effect's facts say."""
        from hirepipe.policy import Change, EffectSpec

        def claim(ctx):
            return Change(record_data={"on_behalf_of": "someone-else"})

        policy = two_stage_policy(
            effect=EffectSpec("claim", claim), on_behalf=("anyone",), fired_by=("candidate",)
        )
        pipeline = Pipeline(policy, clock=FakeClock(START))
        application = pipeline.new_application(make_candidate(), make_requisition())
        record = pipeline.fire(application, "go", actor="x", on_behalf_of="cand-1").record
        assert ("x", "cand-1") == (record.actor, record.data["on_behalf_of"])

    def test_acting_for_oneself_is_acting(self):
        """on_behalf_of naming the actor is no acting on behalf: nothing extra recorded."""
        pipeline = Pipeline(STANDARD, clock=FakeClock(START))
        requisition = make_requisition()
        application = make_application(pipeline, requisition)
        record = pipeline.fire(
            application, "withdraw", actor="cand-1", on_behalf_of=" cand-1 ", text="bye"
        ).record
        assert {"text": "bye"} == record.data

    def test_on_behalf_of_is_an_identifier(self):
        """An empty person acted for is refused before anything changes."""
        pipeline = Pipeline(STANDARD, clock=FakeClock(START))
        requisition = make_requisition()
        application = make_application(pipeline, requisition)
        with pytest.raises(ValueError, match="not an identifier"):
            pipeline.fire(
                application, "withdraw", actor="maria", on_behalf_of="", requisition=requisition
            )
        assert 0 == application.version


PEOPLE = st.sampled_from(["cfo", "vp", "maria", "mallory", "cand-1", "alice", " cfo "])


@settings(max_examples=150, deadline=None)
@given(actor=PEOPLE, named=st.none() | PEOPLE, for_whom=st.none() | PEOPLE)
def test_an_approval_counts_only_as_the_approvers_own(actor, named, for_whom):
    """Whoever acts, names and acts for, an approval counts only as the approver's own.

    Recorded by the approver, or for them by a recruiter where the policy allows it.
    """
    policy = STANDARD.with_permissions("record_approval", on_behalf=["recruiter"])
    pipeline = Pipeline(policy, clock=FakeClock(START))
    requisition = make_requisition(approvers=["cfo", "vp"], recruiter="alice")
    requisition.approval_chain = (ApprovalStep(name="all", approvers=("cfo", "vp")),)
    application = make_application(pipeline, requisition, stage="approval")
    before = application.model_dump_json()
    data = {"approver": named} if named is not None else {}
    actor_id, for_id = actor.strip(), (for_whom or "").strip() or None
    if for_id == actor_id:
        for_id = None
    person = for_id or actor_id
    allowed = (
        (named is None or named.strip() == person)
        and person in {"cfo", "vp"}
        and (for_id is None or actor_id == "alice")
    )
    try:
        record = pipeline.fire(
            application,
            "record_approval",
            actor=actor,
            on_behalf_of=for_whom,
            requisition=requisition,
            granted=True,
            **data,
        ).record
    except GuardRejected:
        assert not allowed
        assert before == application.model_dump_json()
        return
    assert allowed
    assert (actor_id, person) == (record.actor, application.approvals[-1].approver)
    assert for_id == record.data.get("on_behalf_of")


ROLE_NAMES = [*(role.value for role in Role), "payroll"]


@settings(max_examples=300, deadline=None)
@given(
    event=st.sampled_from(sorted(STANDARD.events)),
    held=st.frozensets(st.sampled_from(ROLE_NAMES)) | st.lists(st.sampled_from(ROLE_NAMES)),
    actor=st.sampled_from(["maria", "cfo"]),
    named=st.none() | st.sampled_from(["maria", "cfo"]),
)
def test_the_quick_yes_agrees_with_the_explanation(event, held, actor, named):
    """``permitted_as_themselves`` says yes exactly when ``permission_blockers`` finds nothing.

    Asked of every event, with any roles (a set or a list) and a person named or not.
    """
    spec = STANDARD.events[event]
    model = spec.data_model
    data = model.model_construct(**({model.person_field: named} if model.person_field else {}))
    asked: list[str] = []

    def roles_of(person: str) -> Collection[str]:
        asked.append(person)
        return held

    quick = permitted_as_themselves(spec, data, actor, roles_of)
    explained = permission_blockers(
        spec, data, actor=actor, on_behalf_of=None, roles_of=roles_of, requisition=None
    )
    assert quick == (not explained)
    assert set(asked) <= {actor}


FIELD_PEOPLE = ["maria", "rita", "cfo", "sub", "alice", "cand-1", SYSTEM_ACTOR, "mallory"]


@settings(max_examples=300, deadline=None)
@given(
    event=st.sampled_from(sorted(STANDARD.events)),
    fired_by=st.none() | st.lists(st.sampled_from(ROLE_NAMES), min_size=1, max_size=4),
    actor=st.sampled_from(FIELD_PEOPLE),
    named=st.none() | st.sampled_from(FIELD_PEOPLE),
    with_requisition=st.booleans(),
    chain=st.booleans(),
    substitute=st.booleans(),
)
def test_the_engine_asks_the_fields_as_requisition_roles_answers(
    event, fired_by, actor, named, with_requisition, chain, substitute
):
    """The engine's question, one role at a time, has the answer of the roles' whole set.

    ``permitted_by_fields`` agrees with ``permitted_as_themselves`` given every role
    ``requisition_roles`` finds (and ``system`` for the system actor): for every event, any
    roles it is fired by, anyone acting, with and without the requisition, an approval chain,
    or a substitute approver.
    """
    spec = STANDARD.events[event]
    if fired_by is not None:
        spec = dataclasses.replace(spec, fired_by=tuple(fired_by))
    model = spec.data_model
    data = model.model_construct(**({model.person_field: named} if model.person_field else {}))
    requisition = make_requisition(
        approvers=["cfo"],
        recruiter="rita",
        approval_chain=[ApprovalStep(name="finance", approvers=("cfo",))] if chain else [],
    )
    pipeline = Pipeline(STANDARD, clock=FakeClock(START))
    application = make_application(pipeline, requisition, candidate=make_candidate(1))
    if substitute:
        application.substitutions = (
            Substitution(step="finance", absent="cfo", substitute="sub", reason="away", at=START),
        )
    given_requisition = requisition if with_requisition else None

    def roles_of(person: str) -> Collection[str]:
        held = set(requisition_roles(person, application, given_requisition))
        return held | {Role.system} if person == SYSTEM_ACTOR else held

    expected = permitted_as_themselves(spec, data, actor, roles_of)
    assert expected == permitted_by_fields(
        spec, data, actor, application, given_requisition, SYSTEM_ACTOR
    )
