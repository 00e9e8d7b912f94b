"""The outbox: every notification, kept until it is sent or has failed for good.

Nothing is ever dropped. A notification enters ``pending``; a sender that fails puts it back
with a later ``next_attempt_at`` (exponential backoff); after the last attempt it is
``failed`` and stays in the outbox, visible (:meth:`Outbox.failed`) and retryable by hand
(:meth:`Outbox.requeue`). Delivery is at least once: a crash between a send and
:meth:`Outbox.mark_sent` sends again, with the same key for the receiver to recognise.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from hirepipe.notify._model import Notification, NotificationError, NotificationStatus

__all__ = ["Backoff", "Outbox"]

_PENDING, _SENT, _FAILED = (
    NotificationStatus.pending,
    NotificationStatus.sent,
    NotificationStatus.failed,
)


@dataclass(frozen=True, slots=True)
class Backoff:
    """How often, and how long apart, a failing notification is tried.

    Attempt ``n`` (1-based) that fails waits ``first * factor ** (n - 1)``, at most ``cap``,
    before the next; after ``attempts`` tries the notification is failed. The defaults try five
    times over about an hour and a half (1, 4, 16 and 64 minutes apart).
    """

    attempts: int = 5
    first: timedelta = timedelta(minutes=1)
    factor: float = 4.0
    cap: timedelta = timedelta(hours=6)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise NotificationError(f"Backoff needs attempts >= 1, not {self.attempts}")
        if self.first < timedelta(0) or self.cap < timedelta(0):
            raise NotificationError("Backoff delays must not be negative")
        if self.factor < 1:
            raise NotificationError(f"Backoff factor must be at least 1, not {self.factor}")

    def delay(self, attempts: int) -> timedelta:
        """Return the wait after the ``attempts``-th failed attempt."""
        seconds = self.first.total_seconds() * self.factor ** max(attempts - 1, 0)
        return min(timedelta(seconds=seconds), self.cap)


class Outbox:
    """An in-memory outbox, safe to share between threads.

    Notifications are keyed by their idempotency key: :meth:`add` keeps the first one with a
    key and ignores later ones, so a hook called again after a crash adds nothing twice. A
    durable outbox (the ``store`` layer) offers the same methods.
    """

    def __init__(self, *, backoff: Backoff | None = None) -> None:
        self.backoff = backoff if backoff is not None else Backoff()
        self._all: dict[str, Notification] = {}
        self._pending: dict[str, Notification] = {}
        # (application id, person) -> latest sent_at, and how many are pending
        self._last_sent: dict[tuple[str, str], datetime] = {}
        self._queued: dict[tuple[str, str], int] = {}
        self._lock = threading.RLock()
        self._delivery = threading.Lock()

    # -- adding and reading ----------------------------------------------------------------------

    def add(self, notification: Notification) -> bool:
        """Keep ``notification``; return False (and keep the first) if its key is known."""
        key = notification.key
        with self._lock:
            if key in self._all:
                return False
            self._all[key] = notification
            if notification.status is _PENDING:
                self._pending[key] = notification
                who = (notification.application_id, notification.to)
                self._queued[who] = self._queued.get(who, 0) + 1
            elif notification.status is _SENT and notification.sent_at is not None:
                self._note_sent(notification)
            return True

    def get(self, key: str) -> Notification | None:
        """Return the notification with ``key``, or None."""
        return self._all.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._all

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self) -> Iterator[Notification]:
        with self._lock:
            return iter(list(self._all.values()))

    def pending(self) -> list[Notification]:
        """The notifications waiting to be sent, in the order they were added."""
        with self._lock:
            return list(self._pending.values())

    def sent(self) -> list[Notification]:
        """The notifications sent, in the order they were added."""
        return self._with(_SENT)

    def failed(self) -> list[Notification]:
        """The notifications that failed for good: every attempt used, kept and visible."""
        return self._with(_FAILED)

    def for_application(self, application_id: str) -> list[Notification]:
        """Every notification about one application, in the order they were added."""
        with self._lock:
            return [n for n in self._all.values() if n.application_id == application_id]

    def due(self, now: datetime, *, limit: int | None = None) -> list[Notification]:
        """Return the pending notifications to send at ``now``, soonest first.

        Nothing changes until :meth:`mark_sent` or :meth:`mark_failed`: asking twice returns
        the same notifications.
        """
        with self._lock:
            found = [n for n in self._pending.values() if n.next_attempt_at <= now]
        found.sort(key=lambda n: n.next_attempt_at)  # stable: ties keep the order added
        return found if limit is None else found[:limit]

    def last_sent_to(self, application_id: str, person: str) -> datetime | None:
        """When a notification about the application was last sent to ``person``, if ever."""
        return self._last_sent.get((application_id, person))

    def has_pending_for(self, application_id: str, person: str) -> bool:
        """Whether a notification about the application waits to go to ``person``."""
        return self._queued.get((application_id, person), 0) > 0

    # -- delivery state --------------------------------------------------------------------------

    def mark_sent(self, key: str, now: datetime) -> Notification:
        """Record that the notification with ``key`` was sent at ``now``; return it.

        Marking a sent notification again changes nothing. Raises NotificationError for an
        unknown key or a notification that already failed for good.
        """
        with self._lock:
            current = self._known(key)
            updated = after_sending(current, now)
            if updated is not current:
                self._leave_pending(updated)
                self._note_sent(updated)
            return updated

    def mark_failed(self, key: str, now: datetime, error: str | BaseException) -> Notification:
        """Record a failed attempt at ``now``; return the notification as it now stands.

        It is tried again after the backoff's delay, or, if that was the last attempt, marked
        failed for good and kept. Raises NotificationError for an unknown key or a
        notification that is not pending.
        """
        with self._lock:
            updated = after_failure(self._known(key), now, error, self.backoff)
            if updated.status is _FAILED:
                self._leave_pending(updated)
            else:
                self._all[key] = self._pending[key] = updated
            return updated

    def requeue(self, key: str, now: datetime) -> Notification:
        """Put a failed notification back to pending at ``now``, with a fresh set of attempts."""
        with self._lock:
            updated = after_requeue(self._known(key), now)
            self._all[key] = self._pending[key] = updated
            who = (updated.application_id, updated.to)
            self._queued[who] = self._queued.get(who, 0) + 1
            return updated

    @contextmanager
    def delivering(self) -> Iterator[None]:
        """Hold the outbox's delivery lock: one deliverer at a time never sends one twice."""
        with self._delivery:
            yield

    # -- helpers ---------------------------------------------------------------------------------

    def _known(self, key: str) -> Notification:
        found = self._all.get(key)
        if found is None:
            raise NotificationError(f"no notification with key {key!r} in the outbox")
        return found

    def _with(self, status: NotificationStatus) -> list[Notification]:
        with self._lock:
            return [n for n in self._all.values() if n.status is status]

    def _leave_pending(self, updated: Notification) -> None:
        key = updated.key
        self._all[key] = updated
        del self._pending[key]
        who = (updated.application_id, updated.to)
        self._queued[who] -= 1

    def _note_sent(self, notification: Notification) -> None:
        assert notification.sent_at is not None
        who = (notification.application_id, notification.to)
        last = self._last_sent.get(who)
        if last is None or last < notification.sent_at:
            self._last_sent[who] = notification.sent_at

    def __repr__(self) -> str:
        with self._lock:
            failed = sum(1 for n in self._all.values() if n.status is _FAILED)
            return (
                f"Outbox({len(self._all)} notifications: {len(self._pending)} pending, "
                f"{len(self._all) - len(self._pending) - failed} sent, {failed} failed)"
            )


# -- the delivery states, shared by every outbox (in memory here, durable in hirepipe.store) ---


def after_sending(current: Notification, now: datetime) -> Notification:
    """Return ``current`` marked sent at ``now``; a sent one is returned as it is.

    Raises NotificationError for a notification that already failed for good.
    """
    if current.status is _SENT:
        return current
    if current.status is _FAILED:
        raise NotificationError(
            f"notification {current.key!r} failed for good; requeue it before sending again"
        )
    return replace(
        current, status=_SENT, attempts=current.attempts + 1, sent_at=now, last_error=None
    )


def after_failure(
    current: Notification, now: datetime, error: str | BaseException, backoff: Backoff
) -> Notification:
    """Return ``current`` after a failed attempt: retried after the backoff, or failed for good.

    Raises NotificationError for a notification that is not pending.
    """
    if current.status is not _PENDING:
        raise NotificationError(
            f"notification {current.key!r} is {current.status}, not pending; "
            "only a pending notification can fail an attempt"
        )
    reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    attempts = current.attempts + 1
    if attempts >= backoff.attempts:
        return replace(current, status=_FAILED, attempts=attempts, last_error=reason)
    return replace(
        current,
        attempts=attempts,
        last_error=reason,
        next_attempt_at=now + backoff.delay(attempts),
    )


def after_requeue(current: Notification, now: datetime) -> Notification:
    """Return a failed ``current`` pending again at ``now``, with a fresh set of attempts."""
    if current.status is not _FAILED:
        raise NotificationError(f"notification {current.key!r} is {current.status}, not failed")
    return replace(current, status=_PENDING, attempts=0, next_attempt_at=now)
