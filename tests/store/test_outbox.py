"""Tests of the durable outbox: the in-memory Outbox's behaviour, claims, several workers."""

from __future__ import annotations

import inspect
import threading
from collections import Counter
from datetime import timedelta

import pytest

from hirepipe.notify import (
    Backoff,
    DeliveryError,
    MemorySender,
    Message,
    Notification,
    NotificationError,
    NotificationStatus,
    Outbox,
    Templates,
    deliver,
)
from hirepipe.store import StoreOutbox
from tests.store import helpers as store_helpers
from tests.store.helpers import LATER, START, World

database = store_helpers.database  # the fixture: SQLite and PostgreSQL

NOW = START


def note(key: str = "a/1/r/p", *, due=NOW, to: str = "p", **extra) -> Notification:
    """A status notification due at ``due``."""
    fields = {
        "key": key,
        "rule": "r",
        "template": "plain",
        "application_id": key.split("/")[0],
        "requisition_id": "req-1",
        "trigger": "hold",
        "role": "candidate",
        "to": to,
        "address": f"{to}@example.com",
        "created_at": NOW,
        "due_at": due,
        "next_attempt_at": due,
        "facts": {"candidate": {"name": "Ada"}},
    }
    fields.update(extra)
    return Notification(**fields)


@pytest.fixture
def outbox(database) -> StoreOutbox:
    return database.store().outbox


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> Templates:
    """A template ``plain`` that needs only the candidate's name."""
    folder = tmp_path_factory.mktemp("templates")
    for suffix, body in [
        (".subject.txt", "For {{ candidate.name }}"),
        (".txt", "Hello {{ candidate.name }}"),
        (".html", "<p>Hello {{ candidate.name }}</p>"),
    ]:
        (folder / f"plain{suffix}").write_text(body, encoding="utf-8")
    return Templates(folder)


def test_every_outbox_method_is_the_stores_own():
    """StoreOutbox overrides every public method of Outbox: none falls back to memory."""
    methods = {
        name
        for name, member in vars(Outbox).items()
        if inspect.isfunction(member)
        and name != "__init__"
        and (not name.startswith("_") or name.endswith("__"))
    }
    assert {"add", "due", "mark_sent", "__contains__", "delivering"} <= methods
    assert set() == methods - set(vars(StoreOutbox))


class TestOutbox:
    """The in-memory outbox's own tests, on the durable one."""

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
        assert outbox.due(NOW) == outbox.due(NOW)  # asking again: this worker's own claims

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

    def test_failures_back_off_exponentially_then_fail_for_good(self, outbox):
        """Failed attempts wait 1, 4, 16, 64 minutes; the fifth failure is final and kept."""
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

    def test_requeue_a_failed_notification(self, database):
        """A failed notification can be put back by hand with fresh attempts."""
        outbox = database.store(backoff=Backoff(attempts=1)).outbox
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
    def test_impossible_changes_are_refused(self, database, action, message):
        """Changes that make no sense for the notification's status are refused."""
        outbox = database.store(backoff=Backoff(attempts=1)).outbox
        outbox.add(note("sent/1"))
        outbox.add(note("failed/1"))
        outbox.mark_sent("sent/1", NOW)
        outbox.mark_failed("failed/1", NOW, "down")
        with pytest.raises(NotificationError, match=message):
            action(outbox)

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
        assert "StoreOutbox(3 notifications: 1 pending, 2 sent, 0 failed)" == repr(outbox)
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

    def test_a_lease_must_be_positive(self, database):
        """A claim that lasts no time at all is refused."""
        store = database.store()
        with pytest.raises(NotificationError, match="lease must be positive"):
            StoreOutbox(store, lease=timedelta(0))


class TestClaims:
    def test_a_claim_keeps_other_workers_off_until_its_lease_ends(self, database):
        """What one worker was handed, another is not, until the first one's lease runs out."""
        store = database.store(lease=timedelta(minutes=5))
        first, second = store.outbox, StoreOutbox(store, lease=timedelta(minutes=5))
        first.add(note("a/1"))
        first.add(note("a/2"))
        assert (["a/1", "a/2"], []) == (
            [n.key for n in first.due(NOW)],
            second.due(NOW),
        )
        first.mark_sent("a/1", NOW)  # a/2: the first worker died before sending it
        assert [] == second.due(NOW.add(minutes=4))
        assert ["a/2"] == [n.key for n in second.due(NOW.add(minutes=5))]
        assert [] == first.due(NOW.add(minutes=6))  # the second worker has it now

    def test_the_store_sweeps_its_own_outbox(self, database):
        """store.due, mark_sent and mark_failed are its outbox's."""
        store = database.store()
        store.outbox.add(note("a/1"))
        store.outbox.add(note("a/2"))
        assert ["a/1", "a/2"] == [n.key for n in store.due(NOW, limit=5)]
        assert NotificationStatus.sent == store.mark_sent("a/1", NOW).status
        assert 1 == store.mark_failed("a/2", NOW, "down").attempts

    def test_a_failed_attempt_releases_the_claim(self, database):
        """After a failed send, whichever worker is free retries it when it is due."""
        store = database.store()
        first, second = store.outbox, StoreOutbox(store)
        first.add(note())
        (claimed,) = first.due(NOW)
        retry = first.mark_failed(claimed.key, NOW, "down").next_attempt_at
        assert [claimed.key] == [n.key for n in second.due(retry)]

    def test_workers_delivering_at_once_send_each_notification_once(self, database, templates):
        """Four deliverers, each its own outbox, send 60 notifications, each exactly once."""
        store = database.store()
        for number in range(60):
            store.outbox.add(note(f"a/{number}", due=NOW.add(seconds=number)))
        senders = [MemorySender() for _ in range(4)]
        barrier = threading.Barrier(4)

        def work(sender: MemorySender) -> None:
            outbox = StoreOutbox(store)
            barrier.wait()
            while deliver(outbox, sender, LATER, templates=templates, limit=3).sent:
                pass

        threads = [threading.Thread(target=work, args=(s,)) for s in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent = Counter(n.key for sender in senders for n, _ in sender.sent)
        assert ({f"a/{n}" for n in range(60)}, {1}) == (set(sent), set(sent.values()))
        assert 60 == len(store.outbox.sent())


class TestDelivery:
    def test_the_notifier_and_deliver_run_on_the_store(self, database):
        """Events fired through the store are delivered from it, rendered, once."""
        world = World(database)
        world.application(1)
        world.store.fire("app-1", "hold", actor="maria", reason="budget freeze")
        world.store.fire("app-1", "resume", actor="maria", reason="budget back")
        sender = MemorySender()
        report = deliver(world.store.outbox, sender, LATER)
        assert ["app-1/1/status/cand-1", "app-1/2/status/cand-1"] == [n.key for n in report.sent]
        assert all(message.subject for message in sender.messages)
        assert [] == world.store.outbox.pending()
        assert () == deliver(world.store.outbox, sender, LATER).sent

    def test_interrupting_delivery_loses_nothing(self, outbox, templates):
        """An interrupt in the middle of a send leaves the notification pending."""

        def interrupted(notification: Notification, message: Message, now) -> None:
            raise KeyboardInterrupt

        outbox.add(note())
        with pytest.raises(KeyboardInterrupt):
            deliver(outbox, interrupted, NOW, templates=templates)
        assert [note()] == outbox.due(NOW)

    def test_failed_sends_are_retried_then_kept(self, database):
        """A sender that keeps failing is retried with backoff, then kept as failed."""
        outbox = database.store(backoff=Backoff(attempts=2)).outbox
        outbox.add(note())
        sender = MemorySender(fail=lambda n: True)
        first = deliver(outbox, sender, NOW)
        (retrying,) = first.retrying
        (failed,) = deliver(outbox, sender, retrying.next_attempt_at).failed
        assert (2, [failed]) == (failed.attempts, outbox.failed())
