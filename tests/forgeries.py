"""Forged and inconsistent applications, for the property tests of loading and Store.add.

Each forgery takes a real application (brought to its stage by real events) and makes it lie
in one way, through ``model_copy`` (which validates nothing), so the result is an object a
buggy or hostile caller could hold. ``kind`` says where it must be refused: ``"load"`` (the
document is not a valid Application) or ``"store"`` (a valid Application the store's policy
cannot work with).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from hirepipe import Application, Pipeline, standard_policy
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from tests.conftest import START

POLICY = standard_policy()
STAGE_NAMES = sorted(POLICY.stages)
BASE_STAGES = ["interviewed", "review", "on_hold", "offer", "hired", "rejected", "talent_pool"]
# what a hostile string may carry: each is refused in an identifier, the first seven in a name
BAD_CHARACTERS = ["\x00", "\n", "\r", "\x1b", "\x7f", "\x85", "\u2028", "\t", "\u202e", "\ufeff"]


def _bases() -> dict[str, Application]:
    pipeline = Pipeline(POLICY, clock=FakeClock(START))
    requisition = make_requisition()
    return {
        stage: make_application(
            pipeline, requisition, stage=stage, candidate=make_candidate(number)
        )
        for number, stage in enumerate(BASE_STAGES, 1)
    }


BASES = _bases()


@dataclass(frozen=True)
class Forgery:
    """A lying application, what was done to it, and where it must be refused."""

    application: Application
    what: str
    kind: str  # "load" or "store"


def _record(application: Application, index: int, **update: Any) -> Application:
    history = list(application.history)
    history[index] = history[index].model_copy(update=update)
    return application.model_copy(update={"history": history})


@st.composite
def forgeries(draw: st.DrawFn) -> Forgery:
    """A real application made to lie in one way, drawn from every way the tests know."""
    base = BASES[draw(st.sampled_from(BASE_STAGES))]
    count = len(base.history)
    other_stage = draw(st.sampled_from(STAGE_NAMES))
    bad = draw(st.sampled_from(BAD_CHARACTERS))
    where = draw(st.integers(0, 5))

    def inserted(text: str) -> str:
        cut = min(where, len(text))
        return text[:cut] + bad + text[cut:]

    ways: list[tuple[str, str, Callable[[], Application]]] = [
        (
            "version off its history",
            "load",
            lambda: base.model_copy(
                update={"version": draw(st.integers(0, 500).filter(lambda v: v != count))}
            ),
        ),
        (
            "an identifier with a control character",
            "load",
            lambda: base.model_copy(update={"id": inserted(base.id)}),
        ),
        (
            "a candidate id with a control character",
            "load",
            lambda: base.model_copy(
                update={"candidate": base.candidate.model_copy(update={"id": inserted("cand-1")})}
            ),
        ),
        (
            "a name with a control character",
            "load",
            lambda: base.model_copy(
                update={
                    "candidate": base.candidate.model_copy(
                        update={
                            "name": inserted("Ada Lovelace")
                            if bad in BAD_CHARACTERS[:7]
                            else "Ada\x00"
                        }
                    )
                }
            ),
        ),
        (
            "a stage the policy lacks",
            "store",
            lambda: Application.model_validate(
                {**base.model_dump(), "stage": "nowhere", "version": 0, "history": []}
            ),
        ),
    ]
    if count:
        index = draw(st.integers(0, count - 1))
        record = base.history[index]
        ways += [
            (
                "a stage the history does not lead to",
                "load",
                lambda: base.model_copy(
                    update={
                        "stage": draw(
                            st.sampled_from(STAGE_NAMES).filter(lambda s: s != base.stage)
                        )
                    }
                ),
            ),
            ("history emptied", "load", lambda: base.model_copy(update={"history": []})),
            (
                "a record dropped",
                "load",
                lambda: base.model_copy(
                    update={"history": [r for i, r in enumerate(base.history) if i != index]}
                ),
            ),
            (
                "a record renumbered",
                "load",
                lambda: _record(
                    base, index, version=draw(st.integers(1, 500).filter(lambda v: v != index + 1))
                ),
            ),
            (
                "an actor with a control character",
                "load",
                lambda: _record(base, index, actor=inserted(record.actor)),
            ),
            (
                "an event name with a control character",
                "load",
                lambda: _record(base, index, event=inserted(record.event)),
            ),
            ("an event name too long", "load", lambda: _record(base, index, event="e" * 201)),
            ("a naive time", "load", lambda: _record(base, index, at=record.at.naive())),
        ]
        if record.kind == "activity":
            ways.append(
                (
                    "an activity that moves",
                    "load",
                    lambda: _record(
                        base,
                        index,
                        to_stage=draw(
                            st.sampled_from(STAGE_NAMES).filter(lambda s: s != record.from_stage)
                        ),
                    ),
                )
            )
        if index > 0 and base.history[index - 1].to_stage != other_stage:
            ways.append(
                (
                    "a record leaving another stage",
                    "load",
                    lambda: _record(base, index, from_stage=other_stage),
                )
            )
    if count >= 2:
        first, second = draw(
            st.lists(st.integers(0, count - 1), min_size=2, max_size=2, unique=True)
        )
        ways.append(("two records swapped", "load", lambda: _swapped(base, first, second)))
    what, kind, forge = draw(st.sampled_from(ways))
    return Forgery(forge(), what, kind)


def _swapped(application: Application, first: int, second: int) -> Application:
    history = list(application.history)
    history[first], history[second] = history[second], history[first]
    return application.model_copy(update={"history": history})
