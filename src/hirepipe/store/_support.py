"""What a Store keeps between calls: the transaction in progress, recent states, the clock."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from hirepipe._fork import renew_in_child
from hirepipe._redact import error_summary, name_of
from hirepipe._types import whole_number_problem
from hirepipe.models import Application, Requisition, TransitionRecord, _copied
from hirepipe.notify import Notification
from hirepipe.notify._model import occasion_prefix
from hirepipe.pipeline import Fired, Hook
from hirepipe.store._verify import parse_requisition

__all__ = [
    "DEFAULT_CACHED_APPLICATIONS",
    "ParsedRequisitions",
    "Recent",
    "Snapshot",
    "Transaction",
    "call_hooks",
    "copy_application",
    "dump_snapshot",
]

_log = logging.getLogger("hirepipe.store")


@dataclass(slots=True)
class Transaction:
    """The transaction a store call runs in; nested calls in the same context join it."""

    connection: Connection
    collecting: dict[str, Notification] | None = None  # what hooks add during a fire
    absent: set[str] = field(default_factory=set)  # keys looked up and not found meanwhile
    fresh: str | None = None  # how the keys of the event just written begin (occasion_prefix)

    def fresh_key(self, key: str) -> bool:
        """Whether ``key`` is one of the event's just written, which no outbox row can have.

        Its log row is new in this transaction, so nothing was notified of it yet: the hooks'
        look-ups of its keys need no query (the insert still keeps the first row of a key).
        """
        return self.fresh is not None and key.startswith(self.fresh)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An application's JSON as the store wrote it, and where the items of its history begin.

    ``text`` is exactly ``model_dump_json()``; ``history_at`` indexes the first record of the
    history (or its closing ``]`` when it is empty); ``records`` counts them.
    """

    text: str = field(repr=False)  # the application's JSON: personal values among it
    history_at: int
    records: int


_HISTORY_KEY = ',"history":['


def dump_snapshot(
    application: Application, previous: Snapshot | None, last: TransitionRecord | None
) -> Snapshot:
    """``application.model_dump_json()``, the history it had at ``previous`` not dumped again.

    Dumping a long history is most of the cost of writing an event: its records are frozen
    and an event only appends to it, so the items already written are reused as text, and
    only the fields before the history (``history`` is the model's last field) and the new
    records are dumped. ``last`` is the record that ended the history at ``previous`` (None
    for an empty one); when the history no longer starts with it, everything is dumped.
    """
    head = application.model_dump_json(exclude={"history"})
    history = application.history
    if (
        previous is not None
        and len(history) >= previous.records
        and (history[previous.records - 1] is last if previous.records else last is None)
    ):
        kept = previous.text[previous.history_at : -2]
        added = ",".join(record.model_dump_json() for record in history[previous.records :])
        items = f"{kept},{added}" if kept and added else kept or added
    else:
        items = ",".join(record.model_dump_json() for record in history)
    at = len(head) - 1 + len(_HISTORY_KEY)
    return Snapshot(f"{head[:-1]}{_HISTORY_KEY}{items}]}}", at, len(history))


DEFAULT_CACHED_APPLICATIONS = 4096
"""How many applications' latest states a store remembers by default (``Recent``)."""


class Recent:
    """The latest committed state of recently fired applications, by id and version.

    Parsing and validating an application's JSON is most of an event's work in Python. The
    row is still read in the event's transaction; only when its version is the one this store
    committed last, and its text the one written, is the JSON not parsed again. Entries are
    private copies, and every use takes a copy: nobody else ever holds them.

    A state never replaces a later one (a thread that committed earlier may come last), and
    an erased application's state is forgotten (``forget``): it held personal data. A fire
    takes a ``ticket`` before it commits and hands it to ``put``: a state is refused when an
    erasure came in between, so one committed just before an erasure never comes back after
    it, however late its thread puts it.

    At most ``size`` applications are remembered (the store's ``cached_applications``), the
    least recently used dropped first; 0 remembers none. A forked child starts with none and
    a lock of its own (``_after_fork``).
    """

    __slots__ = ("__weakref__", "_entries", "_erasures", "_lock", "size")

    def __init__(self, size: int = DEFAULT_CACHED_APPLICATIONS) -> None:
        problem = whole_number_problem(size, 0)
        if problem is not None:
            raise ValueError(f"cached_applications must be {problem}; 0 keeps none")
        self.size = size
        self._entries: OrderedDict[str, tuple[int, Application, Snapshot | None]] = OrderedDict()
        self._erasures = 0  # how many ``forget`` calls so far: what a ticket counts
        self._lock = threading.Lock()
        renew_in_child(self)

    def _after_fork(self) -> None:
        """In a forked child: a fresh lock, nothing remembered.

        A child forked while a thread of its parent held the lock has a copy of it taken for
        good (that thread does not exist in the child): its first fire would wait forever.
        """
        self._lock = threading.Lock()
        self._entries = OrderedDict()

    def ticket(self) -> int:
        """What a fire hands to ``put`` after its commit; take it before committing."""
        return self._erasures

    def get(self, application_id: str, version: int) -> Application | None:
        """The application at ``version`` (a copy), if it is the latest remembered."""
        found = self.get_written(application_id, version, None)
        return None if found is None else found[0]

    def get_written(
        self, application_id: str, version: int, text: str | None
    ) -> tuple[Application, Snapshot | None] | None:
        """The application at ``version`` (a copy) and its snapshot, if ``text`` is it."""
        with self._lock:
            found = self._entries.get(application_id)
            if found is None or found[0] != version:
                return None
            self._entries.move_to_end(application_id)
        kept, snapshot = found[1], found[2]
        if text is not None and snapshot is not None and snapshot.text != text:
            return None  # the row was changed since, by hand: parse what it holds
        return copy_application(kept), snapshot

    def put(
        self,
        application_id: str,
        version: int,
        application: Application,
        snapshot: Snapshot | None,
        ticket: int,
    ) -> None:
        """Remember ``application`` as committed at ``version`` (a private copy).

        Not when a later version is remembered, nor when an application was erased
        (``forget``) since ``ticket`` was taken: the state may be one from before it.
        """
        if not self.size:
            return  # caching turned off: not even the copy
        kept = copy_application(application)
        with self._lock:
            if ticket != self._erasures:
                return
            found = self._entries.get(application_id)
            if found is not None and found[0] > version:
                return  # a later state is remembered: keep it
            self._entries[application_id] = (version, kept, snapshot)
            self._entries.move_to_end(application_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self, application_id: str) -> None:
        """Drop what is remembered of an erased application: its states held personal data.

        A fire that committed before the erasure and puts its state after it is refused too
        (its ticket is older).
        """
        with self._lock:
            self._erasures += 1
            self._entries.pop(application_id, None)


class ParsedRequisitions:
    """Requisitions parsed from their stored JSON, remembered by the exact text read.

    Every fire reads its requisition's row; validating that JSON (its time zone, locale,
    country and approval chain) cost more than the rest of the event. The same text is parsed
    once: a row changed in any way, by the store or by hand, is parsed (or refused) anew. Like
    ``Recent``, entries are private and every use takes a copy.
    """

    __slots__ = ("__weakref__", "_entries", "_lock", "size")

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[str, Requisition]] = OrderedDict()
        self._lock = threading.Lock()
        renew_in_child(self)

    def _after_fork(self) -> None:
        """In a forked child: a fresh lock, nothing remembered (as ``Recent._after_fork``)."""
        self._lock = threading.Lock()
        self._entries = OrderedDict()

    def parse(self, requisition_id: str, snapshot: str) -> Requisition:
        """The requisition ``snapshot`` holds (a fresh copy). Raises CorruptData."""
        with self._lock:
            found = self._entries.get(requisition_id)
            if found is not None and found[0] == snapshot:
                self._entries.move_to_end(requisition_id)
                return copy_requisition(found[1])
        parsed = parse_requisition(requisition_id, snapshot)
        kept = copy_requisition(parsed)
        with self._lock:
            self._entries[requisition_id] = (snapshot, kept)
            self._entries.move_to_end(requisition_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return parsed


def copy_requisition(requisition: Requisition) -> Requisition:
    """A copy the engine may change freely: fields are replaced whole, never changed in place."""
    return _copied(requisition, approvers=list(requisition.approvers))  # its one mutable field


def copy_application(application: Application) -> Application:
    """A copy the engine may change freely: fields are replaced whole, the history appended."""
    return _copied(application, history=list(application.history))


def call_hooks(
    hooks: Iterable[Hook], tx: Transaction, fired: Fired, *, fresh: bool = False
) -> tuple[list[str], list[Notification]]:
    """Call every hook inside the event's transaction; return failures and what they added.

    A hook that raises is logged and its failure returned (it never undoes the event); a
    database error is the transaction's own failure and propagates. ``fresh``: the event's
    log row was written in this transaction (not a retry), so the outbox holds none of its
    notifications (``Transaction.fresh_key``).
    """
    outer, outer_absent, outer_fresh = tx.collecting, tx.absent, tx.fresh
    tx.collecting, tx.absent = {}, set()
    tx.fresh = occasion_prefix(fired.application.id, fired.record.version) if fresh else None
    errors = []
    try:
        for hook in list(hooks):
            try:
                hook(fired)
            except DBAPIError:
                raise  # the transaction itself failed: nothing is written
            except Exception as exc:  # a hook never undoes an event
                # Its name and its error's class, no message nor traceback: the log and the
                # failures verify() reports are not erased, and the message may be personal.
                failure = f"{name_of(hook)}: {error_summary(exc)}"
                _log.error(
                    "hook failed on %s of application %s (version %d): %s; recorded for "
                    "store.retry_hooks()",
                    fired.record.event,
                    fired.application.id,
                    fired.record.version,
                    failure,
                )
                errors.append(failure)
        return errors, list(tx.collecting.values())
    finally:
        tx.collecting, tx.absent, tx.fresh = outer, outer_absent, outer_fresh
