"""The durable outbox: ``hirepipe.notify.Outbox``'s methods over the outbox table.

Several workers (threads with their own outbox, processes, machines) may deliver at once:
[`StoreOutbox.due`][hirepipe.store.StoreOutbox.due] *claims* the rows it returns for ``lease``
(PostgreSQL skips rows another worker is claiming, ``FOR UPDATE SKIP LOCKED``; SQLite has one
writer at a time), so no two workers are handed one notification, and a worker that dies holding
a claim only delays its notifications until the lease runs out.
[`StoreOutbox.claim`][hirepipe.store.StoreOutbox.claim] claims one row again just before its
send, and every state change made with that [`Claim`][hirepipe.notify.Claim] checks, in its
transaction, that the row is still claimed by it (its worker and its end): a worker whose lease
ran out while another took the row over records nothing. Delivery stays at least once: a worker
killed between sending and [`StoreOutbox.mark_sent`][hirepipe.store.StoreOutbox.mark_sent] sends
again after the lease.
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import (
    Row,
    Select,
    Table,
    Update,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)

from hirepipe._fork import renew_in_child
from hirepipe._redact import error_summary, validation_summary
from hirepipe.errors import HirepipeError
from hirepipe.notify import (
    Backoff,
    Claim,
    ClaimLost,
    Notification,
    NotificationError,
    NotificationStatus,
    Outbox,
)
from hirepipe.notify._outbox import (
    after_erasure,
    after_failure,
    after_requeue,
    after_sending,
    check_lease,
    check_limit,
    check_now,
    later,
)
from hirepipe.notify._recording import sent_note
from hirepipe.store._writes import insert_notifications, row_values

if TYPE_CHECKING:
    from hirepipe.store._store import Store

__all__ = ["StoreOutbox", "erase_notifications"]

_log = logging.getLogger("hirepipe.store")
_PENDING, _SENT, _FAILED = (
    NotificationStatus.pending,
    NotificationStatus.sent,
    NotificationStatus.failed,
)


class StoreOutbox(Outbox):
    """An outbox kept in the store's database, with the in-memory ``Outbox``'s methods.

    Give it to a [`Notifier`][hirepipe.notify.Notifier] and to
    [`deliver`][hirepipe.notify.deliver]. Inside [`Store.fire`][hirepipe.store.Store.fire] (and
    [`Store.transaction`][hirepipe.store.Store.transaction]), what a hook adds is written in the
    event's own transaction; elsewhere each call is its own transaction.

    ``lease`` is how long a claim made by [`due`][hirepipe.store.StoreOutbox.due] lasts: longer
    than a send takes. ``worker`` names this outbox's claims (a fresh id by default): give every
    delivering thread or process its own ``StoreOutbox(store)``.
    """

    def __init__(
        self,
        store: Store,
        *,
        backoff: Backoff | None = None,
        lease: _dt.timedelta = _dt.timedelta(minutes=5),
        worker: str | None = None,
    ) -> None:
        # The in-memory outbox's state is not used: every method below reads the database.
        self.backoff: Backoff = backoff if backoff is not None else Backoff()
        self.lease: _dt.timedelta = check_lease(lease)
        self.worker: str = worker if worker is not None else uuid.uuid4().hex
        self._store = store
        self._table = store.tables.outbox
        self._delivery = threading.Lock()
        renew_in_child(self)

    def _after_fork(self) -> None:
        # held for a whole send: a child forked meanwhile would wait on its copy for good
        self._delivery = threading.Lock()

    # -- adding and reading ----------------------------------------------------------------------

    def add(self, notification: Notification) -> bool:
        """Keep ``notification``; return False (and keep the first) if its key is known."""
        key = notification.key
        tx = self._store._active.get()
        if tx is not None and tx.collecting is not None:
            if key in tx.collecting:
                return False
            if key not in tx.absent and not tx.fresh_key(key) and self._exists(key):
                return False
            tx.collecting[key] = notification
            return True
        with self._store._atomic(savepoint=False) as tx:
            return insert_notifications(tx.connection, self._store.tables, [notification])

    def get(self, key: str) -> Notification | None:
        """Return the notification with ``key``, or None."""
        tx = self._store._active.get()
        if tx is not None and tx.collecting is not None and key in tx.collecting:
            return tx.collecting[key]
        found = self._read(self._select().where(self._table.c.key == key))
        return found[0] if found else None

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        tx = self._store._active.get()
        collecting = tx.collecting if tx is not None else None
        if collecting is not None and key in collecting:
            return True
        if tx is not None and tx.fresh_key(key):
            return False  # the event that can make it has only just been written
        found = self._exists(key)
        if not found and tx is not None and collecting is not None:
            tx.absent.add(key)
        return found

    def __len__(self) -> int:
        with self._store._atomic(write=False) as tx:
            return int(
                tx.connection.execute(select(func.count()).select_from(self._table)).scalar_one()
            )

    def __iter__(self) -> Iterator[Notification]:
        return iter(self._read(self._select()))

    def pending(self) -> list[Notification]:
        """The notifications waiting to be sent, in the order they were added."""
        return self._with(_PENDING)

    def sent(self) -> list[Notification]:
        """The notifications sent, in the order they were added."""
        return self._with(_SENT)

    def failed(self) -> list[Notification]:
        """The notifications that failed for good: every attempt used, kept and visible."""
        return self._with(_FAILED)

    def for_application(self, application_id: str) -> list[Notification]:
        """Every notification about one application, in the order they were added."""
        return self._read(self._select().where(self._table.c.application_id == application_id))

    def due(self, now: _dt.datetime, *, limit: int | None = None) -> list[Notification]:
        """Claim and return the pending notifications to send at ``now``, soonest first.

        Rows claimed by another worker whose lease has not run out are left to it; this outbox's
        own claims come back again (asking twice returns the same notifications). The claims
        last until ``now + lease``; [`mark_sent`][hirepipe.store.StoreOutbox.mark_sent] and
        [`mark_failed`][hirepipe.store.StoreOutbox.mark_failed] release them.
        """
        check_limit(limit)
        check_now(now)
        table = self._table
        chosen = (
            select(table.c.seq)
            .where(
                table.c.status == _PENDING.value,
                table.c.next_attempt_at <= now,
                or_(
                    table.c.claimed_until.is_(None),
                    table.c.claimed_until <= now,
                    table.c.claimed_by == self.worker,
                ),
            )
            .order_by(table.c.next_attempt_at, table.c.seq)
        )
        if limit is not None:
            chosen = chosen.limit(limit)
        claim = (
            update(table)
            .where(table.c.seq.in_(chosen.with_for_update(skip_locked=True).scalar_subquery()))
            .values(claimed_by=self.worker, claimed_until=later(now, self.lease))
            .returning(table.c.seq, table.c.next_attempt_at, table.c.key, table.c.notification)
        )
        with self._store._atomic(savepoint=False) as tx:
            rows = list(tx.connection.execute(claim).all())
        rows.sort(key=lambda row: (row.next_attempt_at, row.seq))
        return self._parse(rows)

    def last_sent_to(self, application_id: str, person: str) -> _dt.datetime | None:
        """When a notification about the application was last sent to ``person``, if ever."""
        table = self._table
        found = self._read(
            self._select(ordered=False)
            .where(
                table.c.application_id == application_id,
                table.c.recipient == person,
                table.c.status == _SENT.value,
            )
            .order_by(table.c.sent_at.desc())
            .limit(1)
        )
        return found[0].sent_at if found else None

    def has_pending_for(self, application_id: str, person: str) -> bool:
        """Whether a notification about the application waits to go to ``person``."""
        table = self._table
        query = select(
            exists().where(
                table.c.application_id == application_id,
                table.c.recipient == person,
                table.c.status == _PENDING.value,
            )
        )
        with self._store._atomic(write=False) as tx:
            return bool(tx.connection.execute(query).scalar())

    # -- claims ----------------------------------------------------------------------------------

    def claim(self, key: str, now: _dt.datetime) -> Claim | None:
        """Claim the notification with ``key`` for this worker, until ``now + lease``.

        Returns None when there is nothing to claim: no such notification, not pending, not
        due at ``now``, or claimed by another worker beyond ``now``. This worker's own claims
        (made by [`due`][hirepipe.store.StoreOutbox.due]) are taken again.
        """
        check_now(now)
        table = self._table
        statement = (
            update(table)
            .where(
                table.c.key == key,
                table.c.status == _PENDING.value,
                table.c.next_attempt_at <= now,
                or_(
                    table.c.claimed_until.is_(None),
                    table.c.claimed_until <= now,
                    table.c.claimed_by == self.worker,
                ),
            )
            .values(claimed_by=self.worker, claimed_until=later(now, self.lease))
            .returning(table.c.key, table.c.notification, table.c.claimed_until)
        )
        with self._store._atomic(savepoint=False) as tx:
            row = tx.connection.execute(statement).one_or_none()
        if row is None:
            return None
        found = self._parse([row])
        return Claim(found[0], self.worker, row.claimed_until) if found else None

    def renew(self, claim: Claim, now: _dt.datetime) -> Claim:
        """Extend ``claim`` to ``now + lease`` (never shorter); return the renewed claim.

        Raises ClaimLost when the row is no longer under this claim.
        """
        check_now(now)
        until = max(claim.until, later(now, self.lease))
        statement = self._under(claim).values(claimed_until=until)
        with self._store._atomic(savepoint=False) as tx:
            if tx.connection.execute(statement).rowcount != 1:
                raise ClaimLost(claim.key)
        return replace(claim, until=until)

    def release(self, claim: Claim) -> None:
        """Give ``claim`` up without an outcome, so another worker may claim the row at once.

        A claim that no longer holds is ignored.
        """
        statement = self._under(claim).values(claimed_by=None, claimed_until=None)
        with self._store._atomic(savepoint=False) as tx:
            tx.connection.execute(statement)

    # -- delivery state --------------------------------------------------------------------------

    def mark_sent(self, key: str, now: _dt.datetime, *, claim: Claim | None = None) -> Notification:
        """Record that the notification with ``key`` was sent at ``now``; return it.

        With ``claim``, only while the row is under that claim (else ClaimLost); without one,
        as an operator's override. Marking a sent notification again without a claim changes
        nothing. Raises NotificationError for an unknown key or a notification that already
        failed for good.
        """
        check_now(now)
        with self._store._atomic(savepoint=False) as tx:
            current = self._locked(key, claim)
            updated = after_sending(current, now)
            if updated is not current:
                self._write(tx.connection, updated)
                if updated.records is not None:
                    self._record(tx.connection, updated)
            return updated

    def _record(self, connection: Any, notification: Notification) -> None:
        """Write the activity a sent notification records, in the transaction marking it sent.

        The application's row is locked first: a writer committing on it meanwhile is waited
        for, not raced (the record's compare-and-set would lose to it, and the activity that
        closes the deadline would be dropped). A record the application refuses (it was
        erased, or its policy lacks the activity) is logged, never a reason to leave a sent
        notification pending (to be sent again).
        """
        applications = self._store.tables.applications
        connection.execute(
            select(applications.c.version)
            .where(applications.c.id == notification.application_id)
            .with_for_update()
        )
        try:
            self._store.fire(
                notification.application_id,
                str(notification.records),
                actor=self._store.pipeline.system_actor,
                **sent_note(self._store.pipeline.policy, notification),
            )
        except HirepipeError as exc:
            _log.warning(
                "notification %s is sent but %r was not recorded on %s (%s); record it by hand "
                "so its deadline closes",
                notification.key,
                notification.records,
                notification.application_id,
                error_summary(exc),
            )

    def mark_failed(
        self,
        key: str,
        now: _dt.datetime,
        error: str | BaseException,
        *,
        claim: Claim | None = None,
    ) -> Notification:
        """Record a failed attempt at ``now``; return the notification as it now stands.

        It is tried again after the backoff's wait (at least a DeliveryError's
        ``retry_after``, at most the cap), or, after the last attempt or a permanent
        DeliveryError, failed for good and kept. With ``claim``, only while the row is under
        that claim (else ClaimLost). Raises NotificationError for an unknown key or a
        notification that is not pending.
        """
        check_now(now)
        with self._store._atomic(savepoint=False) as tx:
            updated = after_failure(self._locked(key, claim), now, error, self.backoff)
            self._write(tx.connection, updated)
            return updated

    def requeue(self, key: str, now: _dt.datetime) -> Notification:
        """Put a failed notification back to pending at ``now``, with a fresh set of attempts."""
        check_now(now)
        with self._store._atomic(savepoint=False) as tx:
            updated = after_requeue(self._locked(key), now)
            self._write(tx.connection, updated)
            return updated

    def erase(self, application_id: str) -> int:
        """Remove the personal data of every notification about an application; return how many.

        As [`Outbox.erase`][hirepipe.notify.Outbox.erase], in the database;
        [`Store.erase`][hirepipe.store.Store.erase] does it for every application it
        erases.
        """
        with self._store._atomic(savepoint=False) as tx:
            return erase_notifications(tx.connection, self._table, application_id)

    @contextmanager
    def delivering(self) -> Iterator[None]:
        """Hold this outbox's delivery lock: its claims are one deliverer's at a time.

        Other ``StoreOutbox`` instances (other workers) deliver alongside, on their own claims.
        Raises NotificationError inside [`Store.transaction`][hirepipe.store.Store.transaction]:
        a send must not hold a transaction open.
        """
        if self._store._active.get() is not None:
            # The claim's renewal thread would wait for this transaction, which waits for it.
            raise NotificationError(
                "deliver outside a store transaction: sending holds no transaction open, "
                "and the claims it renews would wait for this one"
            )
        with self._delivery:
            yield

    # -- helpers ---------------------------------------------------------------------------------

    def _select(self, *, ordered: bool = True) -> Select[Any]:
        table = self._table
        query = select(table.c.seq, table.c.key, table.c.notification)
        return query.order_by(table.c.seq) if ordered else query

    def _read(self, query: Select[Any]) -> list[Notification]:
        with self._store._atomic(write=False) as tx:
            return self._parse(tx.connection.execute(query).all())

    @staticmethod
    def _parse(rows: Sequence[Row[Any]]) -> list[Notification]:
        found = []
        for row in rows:
            try:
                found.append(Notification.from_json(row.notification))
            except ValidationError as exc:  # edited by hand: reported, never sent half-read
                _log.error(
                    "outbox row %r cannot be read, skipped (%s); repair the row",
                    row.key,
                    validation_summary(exc),
                )
        return found

    def _with(self, status: NotificationStatus) -> list[Notification]:
        return self._read(self._select().where(self._table.c.status == status.value))

    def _exists(self, key: str) -> bool:
        with self._store._atomic(write=False) as tx:  # asked by a Notifier on every event
            return self._store._statements.known(tx.connection, key)

    def _locked(self, key: str, claim: Claim | None = None) -> Notification:
        table = self._table
        query = select(
            table.c.key, table.c.notification, table.c.claimed_by, table.c.claimed_until
        ).where(table.c.key == key)
        tx = self._store._active.get()
        assert tx is not None
        row = tx.connection.execute(query.with_for_update()).one_or_none()
        if row is None:
            raise NotificationError(f"no notification with key {key!r} in the outbox")
        if claim is not None and (row.claimed_by, row.claimed_until) != (claim.holder, claim.until):
            raise ClaimLost(key)
        try:
            return Notification.from_json(row.notification)
        except ValidationError as exc:
            problem = validation_summary(exc)
        # raised here, out of the ValidationError's chain: its text quotes the row's values
        raise NotificationError(
            f"notification {key!r} cannot be read back ({problem}); repair the row"
        )

    def _under(self, claim: Claim) -> Update:
        """An UPDATE of the row while it is pending under ``claim`` (its worker and its end)."""
        table = self._table
        return update(table).where(
            table.c.key == claim.key,
            table.c.status == _PENDING.value,
            table.c.claimed_by == claim.holder,
            table.c.claimed_until == claim.until,
        )

    def _write(self, connection: Any, notification: Notification) -> None:
        values = row_values(notification)
        del values["key"]
        connection.execute(  # values as parameters: see _writes.insert_ignore
            update(self._table).where(self._table.c.key == notification.key), values
        )

    def __repr__(self) -> str:
        table = self._table
        query = select(table.c.status, func.count()).group_by(table.c.status)
        with self._store._atomic(write=False) as tx:
            counts = {status: int(count) for status, count in tx.connection.execute(query)}
        total = sum(counts.values())
        return (
            f"StoreOutbox({total} notifications: {counts.get('pending', 0)} pending, "
            f"{counts.get('sent', 0)} sent, {counts.get('failed', 0)} failed)"
        )


def erase_notifications(connection: Any, table: Table, application_id: str) -> int:
    """Erase the notifications about an application in its rows; return how many there were.

    A row that cannot be read was never sent and never will be: it is deleted.
    """
    rows = connection.execute(
        select(table.c.seq, table.c.notification).where(table.c.application_id == application_id)
    ).all()
    for seq, text in rows:
        try:
            notification = after_erasure(Notification.from_json(text))
        except ValidationError:
            connection.execute(delete(table).where(table.c.seq == seq))
            continue
        connection.execute(
            update(table)
            .where(table.c.seq == seq)
            .values(
                status=notification.status.value,
                claimed_by=None,
                claimed_until=None,
                notification=notification.to_json(),
            )
        )
    return len(rows)
