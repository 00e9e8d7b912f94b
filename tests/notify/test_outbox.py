"""Tests of hirepipe.notify's outbox and delivery: one contract that every outbox keeps.

:class:`OutboxContract` is the suite; a subclass says how to make its outbox (the
``outboxes`` fixture), as itsdangerous's variants inherit their base suite. :class:`TestOutbox`
runs it on the in-memory outbox here; ``tests/store/test_outbox.py`` runs it on the durable one,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
from collections import Counter
from datetime import timedelta
from typing import Any, Protocol

import pendulum
import pytest

from hirepipe import CalendarError
from hirepipe.notify import (
    Backoff,
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
        outbox = outboxes(backoff=Backoff())
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

    def test_interrupting_delivery_loses_nothing(self, outbox):
        """An interrupt in the middle of a send leaves the notification pending."""

        def interrupted(notification: Notification, message: Message, now: _dt.datetime) -> None:
            raise KeyboardInterrupt

        outbox.add(note())
        with pytest.raises(KeyboardInterrupt):
            deliver(outbox, interrupted, NOW, templates=TEMPLATES)
        assert [note()] == outbox.due(NOW)

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
        ],
        ids=["attempts", "negative", "factor"],
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
