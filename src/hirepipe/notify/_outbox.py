"""The outbox: every notification, kept until it is sent or has failed for good.

Nothing is ever dropped. A notification enters ``pending``; a sender that fails puts it back
with a later ``next_attempt_at`` (exponential backoff, shortened at random so that workers
recovering from one outage do not all retry at once, and never sooner than a receiver's
``Retry-After``); after the last attempt, or at once for a failure that retrying cannot fix, it
is ``failed`` and stays in the outbox, visible
([`Outbox.failed`][hirepipe.notify.Outbox.failed]) and retryable by hand
([`Outbox.requeue`][hirepipe.notify.Outbox.requeue]).

A deliverer claims each notification ([`claim`][hirepipe.notify.Outbox.claim]) just before
sending it and passes the [`Claim`][hirepipe.notify.Claim] to
[`mark_sent`][hirepipe.notify.Outbox.mark_sent] or
[`mark_failed`][hirepipe.notify.Outbox.mark_failed]; the claim lasts ``lease`` and can be
renewed while a send takes long. Once the lease has run out and another deliverer has claimed
the notification, the old claim is refused (ClaimLost), so two deliverers never both record an
outcome. Delivery is at least once: a crash between a send and
[`mark_sent`][hirepipe.notify.Outbox.mark_sent] sends again, with the same key for the receiver
to recognise:

```python
claim = outbox.claim(notification.key, now)
if claim is not None:
    send(claim.notification)
    outbox.mark_sent(claim.key, now, claim=claim)
```
"""

from __future__ import annotations

import itertools
import math
import random as _random
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from hirepipe._fork import renew_in_child
from hirepipe._redact import error_summary
from hirepipe._types import whole_number_problem
from hirepipe.notify._model import (
    ClaimLost,
    DeliveryError,
    Notification,
    NotificationError,
    NotificationStatus,
)

__all__ = ["Backoff", "Claim", "Outbox"]

_PENDING, _SENT, _FAILED = (
    NotificationStatus.pending,
    NotificationStatus.sent,
    NotificationStatus.failed,
)
_LONGEST = timedelta(days=366)  # a wait longer than a year is a mistake, not a retry policy


@dataclass(frozen=True, slots=True)
class Backoff:
    """How often, and how long apart, a failing notification is tried.

    Attempt ``n`` (1-based) that fails waits ``first * factor ** (n - 1)``, at most ``cap``
    ([`delay`][hirepipe.notify.Backoff.delay]), shortened by a random fraction of up to
    ``jitter`` of itself ([`retry_in`][hirepipe.notify.Backoff.retry_in]); after ``attempts``
    tries the notification is failed. The defaults try five times over about an hour and a half
    (up to 1, 4, 16 and 64 minutes apart, each up to a quarter sooner). ``random`` draws the
    fraction (a float in [0, 1)); pass a seeded ``random.Random(seed).random``, or ``jitter=0``,
    for repeatable waits. Raises NotificationError for settings that cannot work.
    """

    attempts: int = 5
    first: timedelta = timedelta(minutes=1)
    factor: float = 4.0
    cap: timedelta = timedelta(hours=6)
    jitter: float = 0.25
    random: Callable[[], float] = field(default=_random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise NotificationError(f"Backoff needs attempts >= 1, not {self.attempts}")
        if self.first < timedelta(0) or self.cap < timedelta(0):
            raise NotificationError("Backoff delays must not be negative")
        if self.first > _LONGEST or self.cap > _LONGEST:
            raise NotificationError(
                f"Backoff delays must be at most 366 days, not first={self.first}, "
                f"cap={self.cap}: fail the notification and requeue it by hand instead"
            )
        if not math.isfinite(self.factor):
            raise NotificationError(f"Backoff factor must be a finite number, not {self.factor}")
        if self.factor < 1:
            raise NotificationError(f"Backoff factor must be at least 1, not {self.factor}")
        if not 0 <= self.jitter <= 1:  # NaN fails both comparisons
            raise NotificationError(
                f"Backoff jitter is a fraction of the delay, between 0 and 1, not {self.jitter}"
            )

    def delay(self, attempts: int) -> timedelta:
        """Return the scheduled wait after the ``attempts``-th failed attempt: at most ``cap``."""
        first, cap = self.first.total_seconds(), self.cap.total_seconds()
        exponent = max(attempts - 1, 0)
        if first == 0 or first >= cap:
            return min(self.first, self.cap)
        # Compare logarithms before raising the factor to a power: 60 * 4 ** 21 seconds does
        # not fit a timedelta (issue 17), and a large enough exponent overflows a float.
        if self.factor > 1 and exponent >= math.log(cap / first) / math.log(self.factor):
            return self.cap
        return min(timedelta(seconds=first * self.factor**exponent), self.cap)

    def retry_in(self, attempts: int) -> timedelta:
        """Return the wait the outbox uses: ``delay``, shortened by up to ``jitter``."""
        delay = self.delay(attempts)
        if not self.jitter:
            return delay
        draw = self.random()
        draw = 1.0 if draw > 1 else draw if draw >= 0 else 0.0  # NaN counts as 0
        return delay * (1 - self.jitter * draw)


@dataclass(frozen=True, slots=True)
class Claim:
    """A deliverer's hold on one pending notification, until ``until``.

    Made by [`Outbox.claim`][hirepipe.notify.Outbox.claim];
    [`Outbox.mark_sent`][hirepipe.notify.Outbox.mark_sent] and
    [`Outbox.mark_failed`][hirepipe.notify.Outbox.mark_failed] record an outcome only while it
    holds (else ClaimLost). ``holder`` names whose claim it is; ``notification`` is the
    notification as it was claimed.
    """

    notification: Notification
    holder: str
    until: datetime

    @property
    def key(self) -> str:
        """The claimed notification's key."""
        return self.notification.key


def check_limit(limit: int | None) -> int | None:
    """Return ``limit`` (how many ``due`` returns at most), or raise NotificationError.

    It is None (no limit) or a whole number from 0 to ``LARGEST_COUNT`` (2**63 - 1). A
    negative one meant all but the last few in memory, every one on SQLite (claimed at
    once), and the driver's error on PostgreSQL; one beyond a database's integers the driver's
    ``OverflowError`` (SQLite) or ``bigint out of range`` (PostgreSQL); ``True`` and ``1.5``
    were taken as 1.
    """
    if limit is not None:
        problem = whole_number_problem(limit, 0)
        if problem is not None:
            raise NotificationError(
                f"the limit of due notifications must be {problem}; pass None for no limit"
            )
    return limit


def check_lease(lease: timedelta) -> timedelta:
    """Return ``lease``; raise NotificationError unless it is a positive timedelta of a year.

    A year at most: ``timedelta.max`` made every claim's end leave the calendar.
    """
    if not isinstance(lease, timedelta):
        raise NotificationError(
            f"the outbox lease must be a timedelta, not {type(lease).__name__} {lease!r}"
        )
    if lease <= timedelta(0):
        raise NotificationError(f"the outbox lease must be positive, not {lease}")
    if lease > _LONGEST:
        raise NotificationError(
            f"the outbox lease must be at most 366 days, not {lease}: it is how long a send "
            "may take before another worker takes the notification over"
        )
    return lease


def check_now(now: datetime) -> datetime:
    """Return ``now``; raise NotificationError unless it is a time-zone-aware datetime.

    Every outbox method that takes the time asks here first. A naive one was compared with
    the notifications' aware times (a bare ``TypeError`` in memory), written as a naive send
    time by ``mark_sent`` in memory, and SQLAlchemy's ``StatementError`` in a store.
    """
    if not isinstance(now, datetime):
        raise NotificationError(
            f"now must be a datetime, not {type(now).__name__}; pass the current time "
            "with its time zone (pendulum.now('UTC'))"
        )
    if now.utcoffset() is None:
        raise NotificationError(
            f"now ({now.isoformat()}) has no time zone; pass an aware datetime "
            "(pendulum.now('UTC'), or datetime.now(timezone.utc))"
        )
    return now


def later(now: datetime, by: timedelta) -> datetime:
    """``now + by``, or NotificationError when it passes the calendar's last day.

    ``now`` is a caller's: ``datetime.max`` (a sweep asked for everything ever due) raised a
    bare ``OverflowError`` from the claim's end or the next attempt's time. The time must stay
    within the calendar in UTC too (a store keeps it so): 23:00 on 31 December 9999 at UTC-5
    was the driver's bare "date value out of range".
    """
    try:
        moved = now + by
        offset = moved.utcoffset()
        if offset:
            moved - offset  # in UTC, as a store keeps it: OverflowError past the calendar
    except OverflowError:
        raise NotificationError(
            f"now ({now.isoformat()}) is too close to the calendar's end to add {by} to it; "
            "pass the current time"
        ) from None
    return moved


class Outbox:
    """An in-memory outbox, safe to share between threads.

    Notifications are keyed by their idempotency key: [`add`][hirepipe.notify.Outbox.add] keeps
    the first one with a key and ignores later ones, so a hook called again after a crash adds
    nothing twice. ``lease`` is how long a [`claim`][hirepipe.notify.Outbox.claim] lasts unless
    renewed: longer than a send takes. ``on_sent`` is called with each notification marked sent
    whose rule ``records`` an activity
    ([`hirepipe.notify.record_sent`][hirepipe.notify.record_sent] writes it into the
    application's history, closing the deadline it answers). A durable outbox (the ``store``
    layer) offers the same methods, and records in the transaction that marks the notification
    sent.
    """

    def __init__(
        self,
        *,
        backoff: Backoff | None = None,
        lease: timedelta = timedelta(minutes=5),
        on_sent: Callable[[Notification], object] | None = None,
    ) -> None:
        self.backoff: Backoff = backoff if backoff is not None else Backoff()
        self.lease: timedelta = check_lease(lease)
        self.on_sent: Callable[[Notification], object] | None = on_sent
        self._all: dict[str, Notification] = {}
        self._pending: dict[str, Notification] = {}
        self._claims: dict[str, Claim] = {}
        self._holder, self._claimed = uuid.uuid4().hex, itertools.count()  # a claim's holder
        # (application id, person) -> latest sent_at, and how many are pending
        self._last_sent: dict[tuple[str, str], datetime] = {}
        self._queued: dict[tuple[str, str], int] = {}
        self._lock = threading.RLock()
        self._delivery = threading.Lock()
        renew_in_child(self, held="_lock")  # a child sees no record half written

    def _after_fork(self) -> None:
        # a forked child's copies may be held for good by threads of its parent
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

        Notifications under a claim that lasts beyond ``now`` are left out. Nothing changes:
        asking twice returns the same notifications.
        """
        check_limit(limit)
        check_now(now)
        with self._lock:
            found = [
                n
                for key, n in self._pending.items()
                if n.next_attempt_at <= now and not self._held(key, now)
            ]
        found.sort(key=lambda n: n.next_attempt_at)  # stable: ties keep the order added
        return found if limit is None else found[:limit]

    def last_sent_to(self, application_id: str, person: str) -> datetime | None:
        """When a notification about the application was last sent to ``person``, if ever."""
        return self._last_sent.get((application_id, person))

    def has_pending_for(self, application_id: str, person: str) -> bool:
        """Whether a notification about the application waits to go to ``person``."""
        return self._queued.get((application_id, person), 0) > 0

    # -- claims ----------------------------------------------------------------------------------

    def claim(self, key: str, now: datetime) -> Claim | None:
        """Claim the notification with ``key`` for sending, until ``now + lease``.

        Returns None when there is nothing to claim: no such notification, not pending, not
        due at ``now``, or under another claim that lasts beyond ``now``.
        """
        check_now(now)
        with self._lock:
            current = self._pending.get(key)
            if current is None or current.next_attempt_at > now or self._held(key, now):
                return None
            claim = Claim(current, f"{self._holder}.{next(self._claimed)}", later(now, self.lease))
            self._claims[key] = claim
            return claim

    def renew(self, claim: Claim, now: datetime) -> Claim:
        """Extend ``claim`` to ``now + lease`` (never shorter); return the renewed claim.

        Raises ClaimLost when the claim no longer holds.
        """
        check_now(now)
        with self._lock:
            self._check(claim)
            renewed = replace(claim, until=max(claim.until, later(now, self.lease)))
            self._claims[claim.key] = renewed
            return renewed

    def release(self, claim: Claim) -> None:
        """Give ``claim`` up without an outcome, so another deliverer may claim at once.

        A claim that no longer holds is ignored.
        """
        with self._lock:
            held = self._claims.get(claim.key)
            if held is not None and _same(held, claim):
                del self._claims[claim.key]

    # -- delivery state --------------------------------------------------------------------------

    def mark_sent(self, key: str, now: datetime, *, claim: Claim | None = None) -> Notification:
        """Record that the notification with ``key`` was sent at ``now``; return it.

        With ``claim``, only while that claim holds (else ClaimLost); without one, as an
        operator's override. Marking a sent notification again without a claim changes
        nothing. Raises NotificationError for an unknown key or a notification that already
        failed for good.
        """
        check_now(now)
        with self._lock:
            current = self._known(key)
            if claim is not None:
                self._check(claim)
            updated = after_sending(current, now)
            self._claims.pop(key, None)
            if updated is not current:
                self._leave_pending(updated)
                self._note_sent(updated)
        if updated is not current and self.on_sent is not None and updated.records is not None:
            failure = None
            try:
                self.on_sent(updated)
            except Exception as exc:
                failure = error_summary(exc)
            if failure is not None:  # raised here, out of the chain: its text may be personal
                raise NotificationError(
                    f"notification {key!r} is sent, but {updated.records!r} could not be "
                    f"recorded on application {updated.application_id!r} ({failure}); record "
                    "it by hand so its deadline closes"
                )
        return updated

    def mark_failed(
        self,
        key: str,
        now: datetime,
        error: str | BaseException,
        *,
        claim: Claim | None = None,
    ) -> Notification:
        """Record a failed attempt at ``now``; return the notification as it now stands.

        It is tried again after the backoff's wait (at least a DeliveryError's
        ``retry_after``, at most the cap), or, after the last attempt or a permanent
        DeliveryError, failed for good and kept. With ``claim``, only while that claim holds
        (else ClaimLost). Raises NotificationError for an unknown key or a notification that
        is not pending.
        """
        check_now(now)
        with self._lock:
            current = self._known(key)
            if claim is not None:
                self._check(claim)
            updated = after_failure(current, now, error, self.backoff)
            self._claims.pop(key, None)
            if updated.status is _FAILED:
                self._leave_pending(updated)
            else:
                self._all[key] = self._pending[key] = updated
            return updated

    def requeue(self, key: str, now: datetime) -> Notification:
        """Put a failed notification back to pending at ``now``, with a fresh set of attempts."""
        check_now(now)
        with self._lock:
            updated = after_requeue(self._known(key), now)
            self._all[key] = self._pending[key] = updated
            who = (updated.application_id, updated.to)
            self._queued[who] = self._queued.get(who, 0) + 1
            return updated

    def erase(self, application_id: str) -> int:
        """Remove the personal data of every notification about an application; return how many.

        Each keeps its key, times and status and loses its facts (what it renders) and its
        address; a pending one fails for good, never to be sent (``after_erasure``). For
        [`hirepipe.Pipeline.erase`][hirepipe.pipeline.Pipeline.erase]; the durable store erases
        its outbox itself.
        """
        with self._lock:
            found = [n for n in self._all.values() if n.application_id == application_id]
            for notification in found:
                erased = after_erasure(notification)
                self._claims.pop(notification.key, None)  # a deliverer holding one loses it
                if notification.status is _PENDING:
                    self._leave_pending(erased)
                else:
                    self._all[erased.key] = erased
            return len(found)

    @contextmanager
    def delivering(self) -> Iterator[None]:
        """Hold the outbox's delivery lock: one [`deliver`][hirepipe.notify.deliver] at a time."""
        with self._delivery:
            yield

    # -- helpers ---------------------------------------------------------------------------------

    def _known(self, key: str) -> Notification:
        found = self._all.get(key)
        if found is None:
            raise NotificationError(f"no notification with key {key!r} in the outbox")
        return found

    def _held(self, key: str, now: datetime) -> bool:
        held = self._claims.get(key)
        return held is not None and held.until > now

    def _check(self, claim: Claim) -> None:
        held = self._claims.get(claim.key)
        if held is None or not _same(held, claim):
            raise ClaimLost(claim.key)

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


def _same(held: Claim, claim: Claim) -> bool:
    # Holder and end identify a claim; comparing the notifications would build their facts.
    return held.holder == claim.holder and held.until == claim.until


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

    A permanent DeliveryError fails it for good at once; a DeliveryError's ``retry_after``
    postpones the retry, up to the backoff's cap. Raises NotificationError for a notification
    that is not pending.
    """
    if current.status is not _PENDING:
        raise NotificationError(
            f"notification {current.key!r} is {current.status}, not pending; "
            "only a pending notification can fail an attempt"
        )
    reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    attempts = current.attempts + 1
    delivery = error if isinstance(error, DeliveryError) else None
    if attempts >= backoff.attempts or (delivery is not None and delivery.permanent):
        return replace(current, status=_FAILED, attempts=attempts, last_error=reason)
    wait = backoff.retry_in(attempts)
    if delivery is not None and delivery.retry_after is not None:
        wait = max(wait, min(delivery.retry_after, backoff.cap))
    return replace(current, attempts=attempts, last_error=reason, next_attempt_at=later(now, wait))


def after_requeue(current: Notification, now: datetime) -> Notification:
    """Return a failed ``current`` pending again at ``now``, with a fresh set of attempts.

    Raises NotificationError for one that is not failed, or was erased.
    """
    if current.status is not _FAILED:
        raise NotificationError(f"notification {current.key!r} is {current.status}, not failed")
    if current.last_error == ERASED_NOTE:
        raise NotificationError(
            f"notification {current.key!r} was erased with the candidate's data; "
            "there is nothing left to send"
        )
    return replace(current, status=_PENDING, attempts=0, next_attempt_at=now)


ERASED_NOTE = "erased: the candidate's personal data was removed"
"""The ``last_error`` of an erased notification."""


def after_erasure(current: Notification) -> Notification:
    """Return ``current`` without personal data: no facts, no address, an erased error.

    Its key, rule, recipient id, times and status stay; a pending one fails for good, so it is
    never sent.
    """
    status = _FAILED if current.status is _PENDING else current.status
    return replace(current, facts={}, address=None, status=status, last_error=ERASED_NOTE)
