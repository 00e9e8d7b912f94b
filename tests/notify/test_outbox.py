"""Tests of hirepipe.notify's outbox and delivery: one contract that every outbox keeps.

:class:`OutboxContract` is the suite; a subclass says how to make its outbox (the
``outboxes`` fixture), as itsdangerous's variants inherit their base suite. :class:`TestOutbox`
runs it on the in-memory outbox here; ``tests/store/test_outbox.py`` runs it on the durable one,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import random
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Protocol

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hirepipe import CalendarError
from hirepipe.notify import (
    Backoff,
    ClaimLost,
    DeliveryError,
    LoggingSender,
    MemorySender,
    Message,
    Notification,
    NotificationError,
    NotificationStatus,
    Outbox,
    Templates,
    deliver,
)
from tests.leaks import leaked, logged, said
from tests.notify.world import TEMPLATES, World

NOW = pendulum.datetime(2025, 1, 6, 9, tz="UTC")
FACTS = {
    "candidate": {"name": "Ada"},
    "job": {"title": "Backend Engineer"},
    "warm_until": None,
    "signature": "Us",
}


def note(key: str = "a/1/r/p", *, due: _dt.datetime = NOW, to: str = "p", **extra) -> Notification:
    """A keep-warm notification due at ``due``."""
    fields = {
        "key": key,
        "rule": "r",
        "template": "keep_warm",
        "application_id": key.split("/")[0],
        "requisition_id": "req-1",
        "trigger": "keep_warm",
        "role": "candidate",
        "to": to,
        "address": f"{to}@example.com",
        "created_at": NOW,
        "due_at": due,
        "next_attempt_at": due,
        "facts": FACTS,
    }
    fields.update(extra)
    return Notification(**fields)


class Outboxes(Protocol):
    """How a variant of the contract makes its outboxes."""

    def __call__(self, **options: Any) -> Outbox:
        """A fresh, empty outbox (``backoff=``, ``lease=``)."""
        ...

    def another_worker(self, outbox: Outbox) -> Outbox:
        """The same notifications as ``outbox``, for a second deliverer."""
        ...


class OutboxContract:
    """What every outbox does: keys kept once, due times, backoff, delivery, nothing dropped."""

    @pytest.fixture
    def outboxes(self) -> Outboxes:
        raise NotImplementedError("a variant of the contract gives its outboxes")

    @pytest.fixture
    def outbox(self, outboxes: Outboxes) -> Outbox:
        return outboxes()

    # -- adding and reading ----------------------------------------------------------------------

    def test_a_key_is_kept_once(self, outbox):
        """Adding a second notification with a known key keeps the first."""
        first = note()
        assert outbox.add(first)
        assert not outbox.add(note(due=NOW.add(days=1)))
        assert (1, first) == (len(outbox), outbox.get("a/1/r/p"))
        assert "a/1/r/p" in outbox
        assert (None, 3 in outbox) == (outbox.get("nope"), False)

    def test_due_returns_what_to_send_now_soonest_first(self, outbox):
        """Only pending notifications due by now come back, soonest first, ties in order."""
        for key, due in [("a/3", 2), ("a/1", 0), ("a/2", 0), ("a/4", -1), ("a/5", 60)]:
            outbox.add(note(key, due=NOW.add(minutes=due)))
        assert ["a/4", "a/1", "a/2"] == [n.key for n in outbox.due(NOW)]
        assert ["a/4", "a/1"] == [n.key for n in outbox.due(NOW, limit=2)]
        assert outbox.due(NOW) == outbox.due(NOW)  # asking again changes nothing

    @pytest.mark.parametrize("limit", [-1, -5], ids=str)
    def test_a_negative_limit_is_refused(self, outbox, limit):
        """Before: all but the last (in memory), every one claimed (SQLite), or the driver's error.

        A worker's ``limit=capacity - busy`` gone below zero.
        """
        for key in ("a/1", "a/2", "a/3"):
            outbox.add(note(key))
        with pytest.raises(NotificationError, match="limit"):
            outbox.due(NOW, limit=limit)
        assert ([], ["a/1"]) == (
            outbox.due(NOW, limit=0),
            [n.key for n in outbox.due(NOW, limit=1)],
        )

    @pytest.mark.parametrize(
        "limit", [2**63, 10**30, 1.5, "3", True], ids=["2**63", "10**30", "1.5", "'3'", "True"]
    )
    def test_a_limit_that_is_no_count_a_database_holds_is_refused(self, outboxes, limit):
        """A limit beyond 2**63 - 1, True, 1.5 or "3" is refused, nothing claimed.

        Before: the driver's OverflowError (SQLite) or ``bigint out of range`` (PostgreSQL)
        beyond 2**63 - 1; True and 1.5 were taken as 1; "3" raised a bare TypeError.
        """
        outbox = outboxes()
        for key in ("a/1", "a/2"):
            outbox.add(note(key))
        with pytest.raises(NotificationError, match="limit of due notifications must be a whole"):
            outbox.due(NOW, limit=limit)
        other = outboxes.another_worker(outbox)
        assert ["a/1", "a/2"] == [n.key for n in other.due(NOW)]
        assert ["a/1"] == [n.key for n in outbox.due(NOW.add(hours=1), limit=2**63 - 1)][:1]

    @pytest.mark.parametrize(
        "end",
        [
            _dt.datetime.max.replace(tzinfo=_dt.UTC),
            # within the year 9999 where it is, past it in UTC: before, the stores' driver's
            # bare "date value out of range" (a StatementError); the in-memory outbox took it
            _dt.datetime(9999, 12, 31, 23, tzinfo=_dt.timezone(_dt.timedelta(hours=-5))),
        ],
        ids=["max", "utc-5"],
    )
    def test_a_now_at_the_calendars_end_is_refused_and_changes_nothing(self, outbox, end):
        """A ``now`` whose claim or next attempt would pass the year 9999 is refused.

        ``now + lease`` (a claim's end) and ``now + wait`` (the next attempt) raised a bare
        OverflowError; NotificationError now, nothing claimed or recorded.
        """
        outbox.add(note("a/1"))
        with pytest.raises(NotificationError, match="too close to the calendar's end"):
            outbox.claim("a/1", end)
        claim = outbox.claim("a/1", NOW)
        assert claim is not None
        with pytest.raises(NotificationError, match="too close to the calendar's end"):
            outbox.renew(claim, end)
        with pytest.raises(NotificationError, match="too close to the calendar's end"):
            outbox.mark_failed("a/1", end, "down", claim=claim)
        unchanged = outbox.get("a/1")
        assert unchanged is not None
        assert (NotificationStatus.pending, 0) == (unchanged.status, unchanged.attempts)
        assert "a/1" == outbox.mark_sent("a/1", NOW, claim=claim).key  # the claim still holds

    @pytest.mark.parametrize(
        ("now", "said"),
        [
            (datetime(2025, 1, 6, 9), "has no time zone"),
            ("2025-01-06T09:00:00+00:00", "must be a datetime, not str"),
            (None, "must be a datetime, not NoneType"),
        ],
        ids=["naive", "a string", "None"],
    )
    def test_a_now_without_its_time_zone_is_refused_and_changes_nothing(self, outbox, now, said):
        """Every method taking the time refuses a naive one, or no datetime, by name.

        A naive ``now`` was a bare TypeError in memory (compared with aware due times), a
        naive send time written by ``mark_sent`` in memory, and SQLAlchemy's StatementError
        in a store.
        """
        outbox.add(note("a/1"))
        outbox.add(note("a/2"))
        claim = outbox.claim("a/2", NOW)
        assert claim is not None
        calls = {
            "due": lambda: outbox.due(now),
            "claim": lambda: outbox.claim("a/1", now),
            "renew": lambda: outbox.renew(claim, now),
            "mark_sent": lambda: outbox.mark_sent("a/1", now),
            "mark_failed": lambda: outbox.mark_failed("a/1", now, "down"),
            "requeue": lambda: outbox.requeue("a/1", now),
        }
        before = [outbox.get("a/1"), outbox.get("a/2")]
        for name, call in calls.items():
            with pytest.raises(NotificationError, match=said):
                call()
            assert before == [outbox.get("a/1"), outbox.get("a/2")], name
        # the claim made before still holds, nothing else was claimed
        assert ["a/1"] == [n.key for n in outbox.due(NOW) if n.key != "a/2"]
        assert "a/2" == outbox.mark_sent("a/2", NOW, claim=claim).key

    @pytest.mark.parametrize(
        "lease",
        [timedelta(days=367), timedelta.max, 300, None],
        ids=["367 days", "timedelta.max", "300", "None"],
    )
    def test_a_lease_no_claim_can_last_is_refused(self, outboxes, lease):
        """timedelta.max made every claim an OverflowError; 300 a bare TypeError."""
        with pytest.raises(NotificationError, match="outbox lease must be"):
            outboxes(lease=lease)

    def test_contact_bookkeeping(self, outbox):
        """The outbox knows when a person last got a message, and whether one waits."""
        outbox.add(note("a/1", to="ada"))
        outbox.add(note("a/2", to="ada"))
        outbox.add(note("b/1", to="ada"))
        assert (None, True) == (outbox.last_sent_to("a", "ada"), outbox.has_pending_for("a", "ada"))
        outbox.mark_sent("a/2", NOW.add(hours=2))
        outbox.mark_sent("a/1", NOW.add(hours=3))
        assert (NOW.add(hours=3), False) == (
            outbox.last_sent_to("a", "ada"),
            outbox.has_pending_for("a", "ada"),
        )
        assert ["a/1", "a/2"] == [n.key for n in outbox.for_application("a")]
        assert f"{type(outbox).__name__}(3 notifications: 1 pending, 2 sent, 0 failed)" == repr(
            outbox
        )
        assert [["a/1", "a/2", "b/1"], ["b/1"]] == [
            [n.key for n in found] for found in (outbox, outbox.pending())
        ]

    def test_adding_notifications_already_sent(self, outbox):
        """Notifications loaded from elsewhere keep their status and count as contact."""
        outbox.add(note(status=NotificationStatus.sent, sent_at=NOW, attempts=1))
        outbox.add(note("a/2", status=NotificationStatus.failed, attempts=5))
        assert (NOW, [], 1) == (
            outbox.last_sent_to("a", "p"),
            outbox.pending(),
            len(outbox.failed()),
        )

    def test_threads_never_keep_a_key_twice(self, outbox):
        """Many threads adding the same keys keep each key once."""
        barrier = threading.Barrier(4)

        def add_all() -> None:
            barrier.wait()
            for number in range(30):
                outbox.add(note(f"a/{number}"))

        threads = [threading.Thread(target=add_all) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert (30, 30) == (len(outbox), len(outbox.pending()))

    # -- delivery state --------------------------------------------------------------------------

    def test_mark_sent(self, outbox):
        """A sent notification leaves the due list and records when and how many attempts."""
        outbox.add(note())
        sent = outbox.mark_sent("a/1/r/p", NOW)
        assert (NotificationStatus.sent, NOW, 1, None) == (
            sent.status,
            sent.sent_at,
            sent.attempts,
            sent.last_error,
        )
        assert ([], [sent]) == (outbox.due(NOW.add(days=9)), outbox.sent())
        assert sent == outbox.mark_sent("a/1/r/p", NOW.add(days=1))  # again: no change

    def test_failures_back_off_exponentially_then_fail_for_good(self, outboxes):
        """Failed attempts wait 1, 4, 16, 64 minutes; the fifth failure is final and kept."""
        outbox = outboxes(backoff=Backoff(jitter=0))
        outbox.add(note())
        waits = []
        now = NOW
        for attempt in range(1, 5):
            current = outbox.mark_failed("a/1/r/p", now, DeliveryError("a/1/r/p", "down"))
            assert (NotificationStatus.pending, attempt) == (current.status, current.attempts)
            waits.append(current.next_attempt_at - now)
            assert [] == outbox.due(current.next_attempt_at - timedelta(seconds=1))
            now = current.next_attempt_at
        assert [timedelta(minutes=m) for m in (1, 4, 16, 64)] == waits
        final = outbox.mark_failed("a/1/r/p", now, "still down")
        assert (NotificationStatus.failed, 5, "still down") == (
            final.status,
            final.attempts,
            final.last_error,
        )
        assert ([final], []) == (outbox.failed(), outbox.due(now.add(years=1)))
        assert [final] == list(outbox)

    def test_error_text_names_the_exception(self, outbox):
        """An exception given as the error is kept as its class and message."""
        outbox.add(note())
        failed = outbox.mark_failed("a/1/r/p", NOW, TimeoutError("no answer"))
        assert "TimeoutError: no answer" == failed.last_error

    def test_requeue_a_failed_notification(self, outboxes):
        """A failed notification can be put back by hand with fresh attempts."""
        outbox = outboxes(backoff=Backoff(attempts=1))
        outbox.add(note())
        outbox.mark_failed("a/1/r/p", NOW, "down")
        again = outbox.requeue("a/1/r/p", NOW.add(hours=1))
        assert (NotificationStatus.pending, 0) == (again.status, again.attempts)
        assert [again] == outbox.due(NOW.add(hours=1))
        assert outbox.has_pending_for("a", "p")

    @pytest.mark.parametrize(
        ("action", "message"),
        [
            (lambda o: o.mark_sent("nope", NOW), "no notification with key 'nope'"),
            (lambda o: o.mark_failed("sent/1", NOW, "x"), "is sent, not pending"),
            (lambda o: o.mark_sent("failed/1", NOW), "failed for good; requeue it"),
            (lambda o: o.requeue("sent/1", NOW), "is sent, not failed"),
        ],
        ids=["unknown", "fail-sent", "send-failed", "requeue-sent"],
    )
    def test_impossible_changes_are_refused(self, outboxes, action, message):
        """Changes that make no sense for the notification's status are refused."""
        outbox = outboxes(backoff=Backoff(attempts=1))
        outbox.add(note("sent/1"))
        outbox.add(note("failed/1"))
        outbox.mark_sent("sent/1", NOW)
        outbox.mark_failed("failed/1", NOW, "down")
        with pytest.raises(NotificationError, match=message):
            action(outbox)

    # -- delivery --------------------------------------------------------------------------------

    def test_deliver_sends_what_is_due_and_leaves_the_rest(self, outbox):
        """Due notifications are rendered and sent; later ones wait."""
        outbox.add(note("a/1"))
        outbox.add(note("a/2", due=NOW.add(days=1)))
        sender = MemorySender()
        report = deliver(outbox, sender, NOW, templates=TEMPLATES)
        assert (["a/1"], [], []) == (
            [n.key for n in report.sent],
            list(report.retrying),
            list(report.failed),
        )
        ((sent, message),) = sender.sent
        assert "a/1" == sent.key
        assert "Staying in touch after Backend Engineer" == message.subject
        assert [message] == sender.messages
        assert NotificationStatus.sent == outbox.get("a/1").status
        assert () == deliver(outbox, sender, NOW, templates=TEMPLATES).sent

    def test_failed_sends_are_retried_until_they_fail_for_good(self, outboxes, caplog):
        """A sender that keeps failing is retried with backoff, then failed and logged."""
        outbox = outboxes(backoff=Backoff(attempts=3))
        outbox.add(note())
        sender = MemorySender(fail=lambda n: True)
        now = NOW
        with caplog.at_level(logging.WARNING, logger="hirepipe.notify"):
            first = deliver(outbox, sender, now, templates=TEMPLATES)
            assert 1 == len(first.retrying)
            now = first.retrying[0].next_attempt_at
            assert 1 == len(deliver(outbox, sender, now, templates=TEMPLATES).retrying)
            assert () == deliver(outbox, sender, now, templates=TEMPLATES).retrying  # not yet
            last = deliver(outbox, sender, now.add(hours=1), templates=TEMPLATES)
        (failed,) = last.failed
        assert (3, "DeliveryError: notification 'a/1/r/p' not delivered: scripted failure") == (
            failed.attempts,
            failed.last_error,
        )
        assert "failed for good after 3 attempts" in caplog.text
        assert [failed] == outbox.failed()

    def test_a_broken_template_is_a_failed_attempt(self, outbox, tmp_path):
        """A notification whose template fails to render stays in the outbox, retried."""
        (tmp_path / "keep_warm.txt").write_text("{{ nothing_here }}")
        outbox.add(note())
        report = deliver(outbox, MemorySender(), NOW, templates=Templates(tmp_path))
        (retrying,) = report.retrying
        assert "TemplateError" in (retrying.last_error or "")
        fixed = deliver(outbox, MemorySender(), NOW.add(hours=1), templates=TEMPLATES)
        assert [NotificationStatus.sent] == [n.status for n in fixed.sent]

    def test_interrupting_delivery_loses_nothing(self, outboxes):
        """An interrupt in the middle of a send leaves the notification pending and unclaimed."""

        def interrupted(notification: Notification, message: Message, now: _dt.datetime) -> None:
            raise KeyboardInterrupt

        outbox = outboxes()
        outbox.add(note())
        with pytest.raises(KeyboardInterrupt):
            deliver(outbox, interrupted, NOW, templates=TEMPLATES)
        assert [note()] == outbox.pending()
        assert note() == outboxes.another_worker(outbox).claim(note().key, NOW).notification

    def test_a_naive_now_is_refused(self, outbox):
        """Delivery needs an aware now."""
        with pytest.raises(CalendarError, match="naive now"):
            deliver(outbox, MemorySender(), _dt.datetime(2025, 1, 6))

    def test_workers_delivering_at_once_send_each_notification_once(self, outboxes):
        """Four deliverers, each its own worker, send 60 notifications, each exactly once."""
        outbox = outboxes()
        for number in range(60):
            outbox.add(note(f"a/{number}", due=NOW.add(seconds=number)))
        senders = [MemorySender() for _ in range(4)]
        barrier = threading.Barrier(4)
        later = NOW.add(days=1)

        def work(sender: MemorySender) -> None:
            mine = outboxes.another_worker(outbox)
            barrier.wait()
            while deliver(mine, sender, later, templates=TEMPLATES, limit=3).sent:
                pass

        threads = [threading.Thread(target=work, args=(s,)) for s in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent = Counter(n.key for sender in senders for n, _ in sender.sent)
        assert ({f"a/{n}" for n in range(60)}, {1}) == (set(sent), set(sent.values()))
        assert 60 == len(outbox.sent())

    # -- claims: every state change a deliverer makes is fenced by its claim --------------------

    def test_a_claim_keeps_other_deliverers_off_until_its_lease_runs_out(self, outboxes):
        """A claimed notification cannot be claimed again while the claim's lease lasts."""
        outbox = outboxes(lease=timedelta(minutes=5))
        other = outboxes.another_worker(outbox)
        outbox.add(note())
        claim = outbox.claim("a/1/r/p", NOW)
        assert (note(), NOW.add(minutes=5)) == (claim.notification, claim.until)
        assert None is other.claim("a/1/r/p", NOW.add(minutes=4))
        assert "a/1/r/p" == other.claim("a/1/r/p", NOW.add(minutes=5)).notification.key

    @pytest.mark.parametrize(
        "action",
        [
            lambda outbox, claim: outbox.mark_sent("a/1/r/p", NOW, claim=claim),
            lambda outbox, claim: outbox.mark_failed("a/1/r/p", NOW, "down", claim=claim),
            lambda outbox, claim: outbox.renew(claim, NOW.add(minutes=6)),
        ],
        ids=["mark-sent", "mark-failed", "renew"],
    )
    def test_a_claim_taken_over_cannot_change_anything(self, outboxes, action):
        """Once another deliverer claimed it after the lease ran out, the old claim is refused."""
        outbox = outboxes(lease=timedelta(minutes=5))
        other = outboxes.another_worker(outbox)
        outbox.add(note())
        stale = outbox.claim("a/1/r/p", NOW)
        current = other.claim("a/1/r/p", NOW.add(minutes=5))
        with pytest.raises(ClaimLost, match="'a/1/r/p'"):
            action(outbox, stale)
        sent = other.mark_sent("a/1/r/p", NOW.add(minutes=5), claim=current)
        assert (NotificationStatus.sent, 1) == (sent.status, sent.attempts)

    def test_a_renewed_claim_outlasts_its_first_lease(self, outboxes):
        """Renewing a claim moves its end; the renewed claim records the outcome."""
        outbox = outboxes(lease=timedelta(minutes=5))
        other = outboxes.another_worker(outbox)
        outbox.add(note())
        renewed = outbox.renew(outbox.claim("a/1/r/p", NOW), NOW.add(minutes=4))
        assert NOW.add(minutes=9) == renewed.until
        assert None is other.claim("a/1/r/p", NOW.add(minutes=8))
        assert NotificationStatus.sent == outbox.mark_sent("a/1/r/p", NOW, claim=renewed).status

    def test_only_a_due_pending_notification_can_be_claimed(self, outboxes):
        """Nothing to claim: unknown, not due yet, sent, or failed for good."""
        outbox = outboxes(backoff=Backoff(attempts=1))
        outbox.add(note("later/1", due=NOW.add(minutes=1)))
        outbox.add(note("sent/1"))
        outbox.add(note("failed/1"))
        outbox.mark_sent("sent/1", NOW)
        outbox.mark_failed("failed/1", NOW, "down")
        assert [None] * 4 == [
            outbox.claim(key, NOW) for key in ("nope", "later/1", "sent/1", "failed/1")
        ]

    def test_a_released_claim_frees_the_notification(self, outboxes):
        """Releasing a claim lets another deliverer claim it at once; a stale release is ignored."""
        outbox = outboxes()
        other = outboxes.another_worker(outbox)
        outbox.add(note())
        claim = outbox.claim("a/1/r/p", NOW)
        outbox.release(claim)
        taken = other.claim("a/1/r/p", NOW)
        outbox.release(claim)  # released already: the new claim stands
        assert None is outboxes.another_worker(outbox).claim("a/1/r/p", NOW.add(minutes=1))
        assert NotificationStatus.sent == other.mark_sent("a/1/r/p", NOW, claim=taken).status

    def test_recorded_by_someone_else_mid_send_does_not_stop_the_batch(self, outboxes, caplog):
        """A notification whose state changed during its send is reported; the rest are sent."""
        outbox = outboxes()
        other = outboxes.another_worker(outbox)
        outbox.add(note("a/1"))
        outbox.add(note("a/2"))

        def sender(notification: Notification, message: Message, now: _dt.datetime) -> None:
            if notification.key == "a/1":
                other.mark_sent("a/1", now)  # recorded by hand while this send hangs
                raise DeliveryError(notification.key, "timed out")

        with caplog.at_level(logging.WARNING, logger="hirepipe.notify"):
            report = deliver(outbox, sender, NOW, templates=TEMPLATES)
        assert (["a/2"], ["a/1"], [], []) == (
            [n.key for n in report.sent],
            [n.key for n in report.unrecorded],
            list(report.retrying),
            list(report.failed),
        )
        assert [NotificationStatus.sent] * 2 == [outbox.get(k).status for k in ("a/1", "a/2")]
        assert "a/1 was attempted but its outcome was not recorded" in caplog.text

    @pytest.mark.slow
    @pytest.mark.parametrize(
        ("lease", "send", "workers", "count"),
        [(1.0, 0.4, 3, 6), (1.0, 1.6, 2, 1)],
        ids=["the-batch-outlasts-the-lease", "one-send-outlasts-the-lease"],
    )
    def test_sending_that_outlasts_the_lease_never_sends_twice(
        self, outboxes, lease, send, workers, count
    ):
        """Deliverers whose sending outlasts the lease send every notification exactly once.

        Real threads and a real lease: ``now`` moves with the time the test has taken. Issue
        17 measured 4 of 6 sent twice (SQLite, 1 s lease, 0.4 s sends, 3 workers).
        """
        outbox = outboxes(lease=timedelta(seconds=lease))
        for number in range(count):
            outbox.add(note(f"a/{number}"))
        started = time.monotonic()
        sent: list[str] = []
        errors: list[str] = []
        unrecorded: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(workers)
        idle = threading.Event()  # never set: a worker's poll interval

        def slow(notification: Notification, message: Message, now: _dt.datetime) -> None:
            idle.wait(send)  # a receiver that takes this long to answer
            with lock:
                sent.append(notification.key)

        def work() -> None:
            mine = outboxes.another_worker(outbox)
            barrier.wait()
            for _ in range(100):  # bounded: the notifications are sent in a few passes
                now = NOW + timedelta(seconds=time.monotonic() - started)
                try:
                    report = deliver(mine, slow, now, templates=TEMPLATES)
                except Exception as exc:
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    return
                with lock:
                    unrecorded.extend(n.key for n in report.unrecorded)
                if not mine.pending():
                    return
                idle.wait(0.05)

        threads = [threading.Thread(target=work) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert ([], [], {f"a/{n}": 1 for n in range(count)}) == (errors, unrecorded, Counter(sent))
        assert count == len(outbox.sent())

    # -- retries: capped, jittered, Retry-After, permanent failures ------------------------------

    def test_a_long_run_of_failures_never_overflows(self, outboxes):
        """Backoff(attempts=25): every failure is kept with a capped wait, then failed for good.

        Issue 17: the 22nd failure built timedelta(seconds=60*4**21) and raised OverflowError.
        """
        backoff = Backoff(attempts=25)
        outbox = outboxes(backoff=backoff)
        outbox.add(note())
        now, waits = NOW, []
        for _ in range(24):
            current = outbox.mark_failed("a/1/r/p", now, "down")
            waits.append(current.next_attempt_at - now)
            now = current.next_attempt_at
        final = outbox.mark_failed("a/1/r/p", now, "down")
        assert (True, NotificationStatus.failed, 25) == (
            all(timedelta(0) < wait <= backoff.cap for wait in waits),
            final.status,
            final.attempts,
        )

    def test_a_notification_failing_for_days_holds_up_nothing_behind_it(self, outboxes):
        """A notification past its 21st failure fails again; the one due after it is sent."""
        outbox = outboxes(backoff=Backoff(attempts=25))
        outbox.add(note("a/1"))
        now = NOW
        for _ in range(21):
            now = outbox.mark_failed("a/1", now, "down").next_attempt_at
        outbox.add(note("a/2", due=now))
        failing = MemorySender(fail=lambda notification: notification.key == "a/1")
        report = deliver(outbox, failing, now, templates=TEMPLATES)
        assert (["a/1"], ["a/2"]) == (
            [n.key for n in report.retrying],
            [n.key for n in report.sent],
        )

    def test_retries_after_an_outage_are_spread_out(self, outboxes):
        """Twenty notifications failing at one instant are retried at twenty different times."""
        backoff = Backoff(jitter=0.5, random=random.Random(17).random)
        outbox = outboxes(backoff=backoff)
        for number in range(20):
            outbox.add(note(f"a/{number}"))
        waits = [outbox.mark_failed(f"a/{n}", NOW, "down").next_attempt_at - NOW for n in range(20)]
        assert (20, True) == (
            len(set(waits)),
            all(timedelta(seconds=30) <= wait <= timedelta(minutes=1) for wait in waits),
        )

    @pytest.mark.parametrize(
        ("retry_after", "expected"),
        [
            (timedelta(minutes=30), timedelta(minutes=30)),
            (timedelta(seconds=10), timedelta(minutes=1)),
            (timedelta(days=30), timedelta(hours=6)),
        ],
        ids=["later-than-the-backoff", "sooner-than-the-backoff", "beyond-the-cap"],
    )
    def test_retry_after_is_honoured_up_to_the_cap(self, outboxes, retry_after, expected):
        """A receiver's Retry-After postpones the next attempt; the backoff's cap still holds."""
        outbox = outboxes(backoff=Backoff(jitter=0))
        outbox.add(note())
        busy = DeliveryError("a/1/r/p", "HTTP 503", status=503, retry_after=retry_after)
        failed = outbox.mark_failed("a/1/r/p", NOW, busy)
        assert (NotificationStatus.pending, expected) == (
            failed.status,
            failed.next_attempt_at - NOW,
        )

    def test_a_permanent_failure_is_failed_at_once_with_its_reason(self, outboxes, caplog):
        """A failure that retrying cannot fix (HTTP 410) fails for good on the first attempt."""
        outbox = outboxes()
        outbox.add(note())

        def gone(notification: Notification, message: Message, now: _dt.datetime) -> None:
            raise DeliveryError(notification.key, "answered HTTP 410", status=410, permanent=True)

        with caplog.at_level(logging.ERROR, logger="hirepipe.notify"):
            report = deliver(outbox, gone, NOW, templates=TEMPLATES)
        (failed,) = report.failed
        assert (NotificationStatus.failed, 1, [failed]) == (
            failed.status,
            failed.attempts,
            outbox.failed(),
        )
        assert "answered HTTP 410 (permanent: not retried)" in (failed.last_error or "")
        assert "failed for good after 1 attempts" in caplog.text


class MemoryOutboxes:
    """In-memory outboxes: every deliverer shares the one object."""

    def __call__(self, **options: Any) -> Outbox:
        return Outbox(**options)

    def another_worker(self, outbox: Outbox) -> Outbox:
        return outbox


class TestOutbox(OutboxContract):
    """The contract, on the in-memory outbox."""

    @pytest.fixture
    def outboxes(self) -> Outboxes:
        return MemoryOutboxes()


class TestBackoff:
    @pytest.mark.parametrize(
        ("settings", "message"),
        [
            ({"attempts": 0}, "attempts >= 1"),
            ({"first": timedelta(seconds=-1)}, "must not be negative"),
            ({"factor": 0.5}, "at least 1"),
            ({"factor": math.inf}, "a finite number"),
            ({"factor": math.nan}, "a finite number"),
            ({"cap": timedelta(days=400)}, "at most 366 days"),
            ({"first": timedelta.max}, "at most 366 days"),
            ({"jitter": -0.1}, "between 0 and 1"),
            ({"jitter": 1.5}, "between 0 and 1"),
            ({"jitter": math.nan}, "between 0 and 1"),
        ],
        ids=[
            "attempts",
            "negative",
            "factor",
            "infinite-factor",
            "nan-factor",
            "cap",
            "first",
            "negative-jitter",
            "jitter-above-one",
            "nan-jitter",
        ],
    )
    def test_bad_settings_are_refused(self, settings, message):
        """Backoff settings that cannot work are refused when made."""
        with pytest.raises(NotificationError, match=message):
            Backoff(**settings)

    def test_the_delay_is_capped(self):
        """The wait grows by the factor up to the cap."""
        backoff = Backoff(first=timedelta(minutes=10), factor=10, cap=timedelta(hours=2))
        assert [timedelta(minutes=10), timedelta(minutes=100), timedelta(hours=2)] == [
            backoff.delay(n) for n in (1, 2, 3)
        ]

    @pytest.mark.parametrize("attempts", [22, 25, 1_000, 10**18], ids=str)
    def test_the_cap_applies_before_the_delay_is_computed(self, attempts):
        """However many attempts failed, the delay is the cap (issue 17: OverflowError at 22)."""
        assert timedelta(hours=6) == Backoff(attempts=25).delay(attempts)

    @given(
        attempts=st.integers(min_value=-5, max_value=10**30),
        factor=st.floats(min_value=1, max_value=1e300),
        first=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=366)),
        cap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=366)),
        jitter=st.floats(min_value=0, max_value=1),
        draw=st.floats(min_value=0, max_value=1, exclude_max=True),
    )
    def test_every_wait_is_within_the_cap(self, attempts, factor, first, cap, jitter, draw):
        """For any settings and any number of attempts, the wait is between 0 and the cap."""
        backoff = Backoff(first=first, factor=factor, cap=cap, jitter=jitter, random=lambda: draw)
        delay = backoff.delay(attempts)
        wait = backoff.retry_in(attempts)
        assert (True, True) == (timedelta(0) <= delay <= cap, timedelta(0) <= wait <= delay)

    @pytest.mark.parametrize(
        ("jitter", "draw", "expected"),
        [(0.25, 0.5, timedelta(seconds=52.5)), (0.25, 0.0, timedelta(minutes=1)), (0, 0.9, None)],
        ids=["half-way", "no-shortening", "no-jitter"],
    )
    def test_jitter_shortens_the_wait_by_a_random_fraction(self, jitter, draw, expected):
        """retry_in shortens the delay by up to ``jitter`` of itself, drawn from ``random``."""
        backoff = Backoff(jitter=jitter, random=lambda: draw)
        assert (expected or backoff.delay(1)) == backoff.retry_in(1)

    def test_a_seeded_random_gives_the_same_waits(self):
        """Two backoffs seeded alike wait alike: tests stay deterministic."""
        waits = [
            [Backoff(random=random.Random(5).random).retry_in(n) for n in range(1, 6)]
            for _ in range(2)
        ]
        assert waits[0] == waits[1]


class TestDeliver:
    """What only the in-memory outbox's delivery shows."""

    def test_logging_sender(self, caplog):
        """The logging sender writes the recipient, the subject and the text."""
        outbox = Outbox()
        outbox.add(note())
        with caplog.at_level(logging.INFO, logger="hirepipe.notify"):
            deliver(outbox, LoggingSender(), NOW)
        assert "to p <p@example.com> [r]: Staying in touch after Backend Engineer" in caplog.text
        assert "MemorySender(0 sent)" == repr(MemorySender())

    def test_notifier_delivers_with_its_own_templates(self):
        """Notifier.deliver sends its outbox with its templates."""
        world = World()
        application = world.application("review")
        report = world.notifier.deliver(world.sender, world.clock.now())
        assert {n.key for n in report.sent} == {
            n.key for n in world.outbox.for_application(application.id)
        }
        assert [] == world.outbox.pending()


class TestNoPersonalDataInLogsOrErrors:
    """Logs and hirepipe's errors are not erased: no address or text of a candidate goes there."""

    def test_a_record_that_fails_says_its_class_not_its_message(self):
        """on_sent's error (it may quote the notification) stays out of NotificationError."""

        def refuse(notification: Notification) -> None:
            raise ValueError(f"no candidate at {notification.address}")

        outbox = Outbox(on_sent=refuse)
        outbox.add(note(records="thank_you_received"))
        with pytest.raises(NotificationError, match="record it by hand") as raised:
            outbox.mark_sent("a/1/r/p", NOW)
        assert "ValueError" in str(raised.value)
        assert [] == leaked(said(raised.value), ["p@example.com"])

    def test_a_failed_send_is_logged_without_the_receivers_reply(self, caplog):
        """The reply (which repeats the address) is kept in last_error, erased with the data."""

        def refuse(notification: Notification, message: Message, now: _dt.datetime) -> None:
            reply = f"550 <{notification.address}>: mailbox unavailable"
            raise DeliveryError(notification.key, reply, permanent=notification.to == "q")

        outbox = Outbox()
        outbox.add(note())
        outbox.add(note("a/1/r/q", to="q"))
        with caplog.at_level(logging.WARNING, logger="hirepipe.notify"):
            report = deliver(outbox, refuse, NOW)
        assert (1, 1) == (len(report.retrying), len(report.failed))
        assert "hirepipe.errors.DeliveryError" in caplog.text
        assert "last_error" in caplog.text  # where to look
        assert [] == leaked(logged(caplog), ["p@example.com", "q@example.com"])
        assert "550 <q@example.com>" in report.failed[0].last_error
        assert {"erased: the candidate's personal data was removed"} == {
            n.last_error for n in (outbox.erase("a"), *outbox)[1:]
        }
