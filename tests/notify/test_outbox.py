"""Tests of hirepipe.notify's outbox and delivery: keys, due times, backoff, nothing dropped."""

from __future__ import annotations

import datetime as _dt
import logging
import threading
from datetime import timedelta

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


class TestOutbox:
    def test_a_key_is_kept_once(self):
        """Adding a second notification with a known key keeps the first."""
        outbox = Outbox()
        first = note()
        assert outbox.add(first)
        assert not outbox.add(note(due=NOW.add(days=1)))
        assert (1, first) == (len(outbox), outbox.get("a/1/r/p"))
        assert "a/1/r/p" in outbox

    def test_due_returns_what_to_send_now_soonest_first(self):
        """Only pending notifications due by now come back, soonest first, ties in order."""
        outbox = Outbox()
        for key, due in [("a/3", 2), ("a/1", 0), ("a/2", 0), ("a/4", -1), ("a/5", 60)]:
            outbox.add(note(key, due=NOW.add(minutes=due)))
        assert ["a/4", "a/1", "a/2"] == [n.key for n in outbox.due(NOW)]
        assert ["a/4", "a/1"] == [n.key for n in outbox.due(NOW, limit=2)]
        assert outbox.due(NOW) == outbox.due(NOW)  # asking changes nothing

    def test_mark_sent(self):
        """A sent notification leaves the due list and records when and how many attempts."""
        outbox = Outbox()
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

    def test_failures_back_off_exponentially_then_fail_for_good(self):
        """Failed attempts wait 1, 4, 16, 64 minutes; the fifth failure is final and kept."""
        outbox = Outbox()
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

    def test_error_text_names_the_exception(self):
        """An exception given as the error is kept as its class and message."""
        outbox = Outbox()
        outbox.add(note())
        failed = outbox.mark_failed("a/1/r/p", NOW, TimeoutError("no answer"))
        assert "TimeoutError: no answer" == failed.last_error

    def test_requeue_a_failed_notification(self):
        """A failed notification can be put back by hand with fresh attempts."""
        outbox = Outbox(backoff=Backoff(attempts=1))
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
    def test_impossible_changes_are_refused(self, action, message):
        """Changes that make no sense for the notification's status are refused."""
        outbox = Outbox(backoff=Backoff(attempts=1))
        outbox.add(note("sent/1"))
        outbox.add(note("failed/1"))
        outbox.mark_sent("sent/1", NOW)
        outbox.mark_failed("failed/1", NOW, "down")
        with pytest.raises(NotificationError, match=message):
            action(outbox)

    def test_contact_bookkeeping(self):
        """The outbox knows when a person last got a message, and whether one waits."""
        outbox = Outbox()
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
        assert "Outbox(3 notifications: 1 pending, 2 sent, 0 failed)" == repr(outbox)

    def test_adding_notifications_already_sent(self):
        """Notifications loaded from storage keep their status and count as contact."""
        outbox = Outbox()
        outbox.add(note(status=NotificationStatus.sent, sent_at=NOW, attempts=1))
        outbox.add(note("a/2", status=NotificationStatus.failed, attempts=5))
        assert (NOW, [], 1) == (
            outbox.last_sent_to("a", "p"),
            outbox.pending(),
            len(outbox.failed()),
        )

    def test_threads_never_keep_a_key_twice(self):
        """Many threads adding the same keys keep each key once."""
        outbox = Outbox()
        barrier = threading.Barrier(8)

        def add_all() -> None:
            barrier.wait()
            for number in range(200):
                outbox.add(note(f"a/{number}"))

        threads = [threading.Thread(target=add_all) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert (200, 200) == (len(outbox), len(outbox.pending()))


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
    def test_sends_what_is_due_and_leaves_the_rest(self):
        """Due notifications are rendered and sent; later ones wait."""
        outbox = Outbox()
        outbox.add(note("a/1"))
        outbox.add(note("a/2", due=NOW.add(days=1)))
        sender = MemorySender()
        report = deliver(outbox, sender, NOW)
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
        assert "MemorySender(1 sent)" == repr(sender)

    def test_failed_sends_are_retried_until_they_fail_for_good(self, caplog):
        """A sender that keeps failing is retried with backoff, then failed and logged."""
        outbox = Outbox(backoff=Backoff(attempts=3))
        outbox.add(note())
        sender = MemorySender(fail=lambda n: True)
        now = NOW
        with caplog.at_level(logging.WARNING, logger="hirepipe.notify"):
            first = deliver(outbox, sender, now)
            assert 1 == len(first.retrying)
            now = first.retrying[0].next_attempt_at
            assert 1 == len(deliver(outbox, sender, now).retrying)
            assert () == deliver(outbox, sender, now).retrying  # not due again yet
            last = deliver(outbox, sender, now.add(hours=1))
        (failed,) = last.failed
        assert (3, "DeliveryError: notification 'a/1/r/p' not delivered: scripted failure") == (
            failed.attempts,
            failed.last_error,
        )
        assert "failed for good after 3 attempts" in caplog.text
        assert [failed] == outbox.failed()

    def test_a_broken_template_is_a_failed_attempt(self, tmp_path):
        """A notification whose template fails to render stays in the outbox, retried."""
        from hirepipe.notify import Templates

        (tmp_path / "keep_warm.txt").write_text("{{ nothing_here }}")
        outbox = Outbox()
        outbox.add(note())
        report = deliver(outbox, MemorySender(), NOW, templates=Templates(tmp_path))
        (retrying,) = report.retrying
        assert "TemplateError" in (retrying.last_error or "")
        fixed = deliver(outbox, MemorySender(), NOW.add(hours=1))  # the defaults render it
        assert [NotificationStatus.sent] == [n.status for n in fixed.sent]

    def test_interrupting_delivery_loses_nothing(self):
        """An interrupt in the middle of a send leaves the notification pending."""

        def interrupted(notification: Notification, message: Message, now: _dt.datetime) -> None:
            raise KeyboardInterrupt

        outbox = Outbox()
        outbox.add(note())
        with pytest.raises(KeyboardInterrupt):
            deliver(outbox, interrupted, NOW, templates=TEMPLATES)
        assert [note()] == outbox.due(NOW)

    def test_a_naive_now_is_refused(self):
        """Delivery needs an aware now."""
        with pytest.raises(CalendarError, match="naive now"):
            deliver(Outbox(), MemorySender(), _dt.datetime(2025, 1, 6))

    def test_logging_sender(self, caplog):
        """The logging sender writes the recipient, the subject and the text."""
        outbox = Outbox()
        outbox.add(note())
        with caplog.at_level(logging.INFO, logger="hirepipe.notify"):
            deliver(outbox, LoggingSender(), NOW)
        assert "to p <p@example.com> [r]: Staying in touch after Backend Engineer" in caplog.text

    def test_notifier_delivers_with_its_own_templates(self):
        """Notifier.deliver sends its outbox with its templates."""
        world = World()
        application = world.application("review")
        report = world.notifier.deliver(world.sender, world.clock.now())
        assert {n.key for n in report.sent} == {
            n.key for n in world.outbox.for_application(application.id)
        }
        assert [] == world.outbox.pending()
