"""Properties of notifications under failure: every one ends sent or failed, none twice, none lost.

Random event sequences of the standard policy are fired with hooks that fail at random (before
the notifier, inside it before it adds anything, and after it added everything, as a crash
would), with random retries, deliveries through a sender that fails at random, sweeps, and time
passing. Afterwards the failed hooks are retried and delivery runs until nothing is pending.
"""

from __future__ import annotations

import contextlib
import random
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hirepipe import Fired, HirepipeError, Pipeline
from hirepipe.notify import (
    Backoff,
    MemorySender,
    NotificationStatus,
    Notifier,
    Outbox,
    deliver,
)
from hirepipe.testing import FakeClock, advance, event_sequences, make_candidate, make_requisition
from tests.conftest import START
from tests.notify.world import POLICY, TEMPLATES, stub_estimate

CHORES = ("retry", "deliver", "tick", "sweep", "inquiry", "thanks")
ATTEMPTS = 3


class Flaky:
    """Fails at random while ``on``: a hook of its own, or around the notifier."""

    def __init__(self, rng: random.Random, notifier: Notifier | None = None) -> None:
        self.rng = rng
        self.notifier = notifier
        self.on = True

    def __call__(self, fired: Fired, /) -> None:
        if self.on and self.rng.random() < 0.25:
            raise RuntimeError("crashed before")
        if self.notifier is not None:
            self.notifier(fired)
            if self.on and self.rng.random() < 0.25:
                raise RuntimeError("crashed after the notifications were kept")


def expected_keys(application_id: str, history: list, candidate: str) -> set[str]:
    """The keys the standard rules call for, derived from the history alone."""
    keys = {
        f"{application_id}/0/application_received/{candidate}",
        f"{application_id}/0/interview_thank_you/{candidate}",
    }
    for record in history:
        for rule in POLICY.notifications:
            entered = record.kind == "transition" and record.to_stage in rule.stages
            if rule.to == "on_behalf_of" and "on_behalf_of" not in record.data:
                continue  # the actor acted for themselves: nobody to tell
            if record.event in rule.events or entered:
                person = candidate if rule.to == "candidate" else "maria"
                keys.add(f"{application_id}/{record.version}/{rule.name}/{person}")
    return keys


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    events=event_sequences(POLICY, max_size=16),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_notification_ends_sent_or_failed_none_twice_none_lost(data, events, seed):
    """Under random hook and sender failures, each notification is kept once and settles."""
    rng = random.Random(seed)
    clock = FakeClock(START)
    outbox = Outbox(backoff=Backoff(attempts=ATTEMPTS, first=timedelta(minutes=1)))
    notifier = Notifier(outbox, POLICY, templates=TEMPLATES, estimate=stub_estimate)
    before, around = Flaky(rng), Flaky(rng, notifier)
    pipeline = Pipeline(POLICY, clock=clock, hooks=[before, around])
    sender = MemorySender(fail=lambda notification: rng.random() < 0.3)
    requisition = make_requisition()
    application = pipeline.new_application(
        make_candidate(), requisition, interviewers=["alice", "bob"]
    )
    notifier.created(application, requisition)

    for event in events:
        with contextlib.suppress(HirepipeError, ValidationError):  # a guard refused: walk on
            advance(pipeline, application, requisition, [event])
        for chore in data.draw(st.lists(st.sampled_from(CHORES), max_size=3)):
            if chore == "retry":
                pipeline.retry_failed_hooks()
            elif chore == "deliver":
                deliver(outbox, sender, clock.now(), templates=TEMPLATES)
            elif chore == "tick":
                clock.advance(hours=rng.choice([1, 7, 30, 100]))
            elif chore == "sweep":
                notifier.sweep([application], [requisition], clock.now())
            else:
                activity = "inquiry" if chore == "inquiry" else "thank_you_received"
                pipeline.fire(application, activity, actor="cand-1", requisition=requisition)

    before.on = around.on = False
    assert 0 == pipeline.retry_failed_hooks()
    for _ in range(ATTEMPTS + 1):
        clock.advance(hours=1)
        deliver(outbox, sender, clock.now(), templates=TEMPLATES)

    kept = list(outbox)
    assert [] == outbox.pending()
    assert all(n.status in (NotificationStatus.sent, NotificationStatus.failed) for n in kept)
    sent_keys = [notification.key for notification, _ in sender.sent]
    assert len(sent_keys) == len(set(sent_keys)), "a notification was sent twice"
    assert {n.key for n in outbox.sent()} == set(sent_keys)
    for failed in outbox.failed():
        assert ATTEMPTS == failed.attempts
        assert failed.last_error
    expected = expected_keys(application.id, application.history, "cand-1")
    assert expected <= {n.key for n in kept}, "a notification was lost"
    event_keys = {n.key for n in kept if "@" not in n.key.split("/")[1]}
    assert expected == event_keys, "a notification nobody asked for"
