"""A durable store: applications, their transition log, requisitions and an outbox, in SQL.

Install with ``pip install 'hirepipe[store]'`` (SQLAlchemy 2; psycopg 3 for PostgreSQL):

```python
store = Store("sqlite:///hiring.db", pipeline)   # or "postgresql+psycopg://user@host/db"
store.upgrade()                                   # create or upgrade the tables
pipeline.hooks.append(Notifier(store.outbox, policy))  # notifications commit with events
store.add(application, requisition)
store.fire(application.id, "start_debrief", actor="maria")  # one transaction
deliver(store.outbox, sender, clock.now())       # several workers may deliver at once
assert store.verify() == []                       # every log replays to its snapshot
store.erase("cand-7", actor="maria")              # GDPR Art. 17, once it has ended
```

Every event is one database transaction: the new snapshot (compare-and-set on its version), the
log row, the requisition it changed (compare-and-set on the requisition's version) and the
notifications its hooks made commit together or not at all; a writer that lost a race gets
[`ConcurrentUpdate`][hirepipe.errors.ConcurrentUpdate] and retries (PostgreSQL's deadlocks and
serialization failures too, as [`TransactionConflict`][hirepipe.errors.TransactionConflict]).
SQLite (the embedded
default) has one writer at a time; PostgreSQL serves many application servers. The tables are
plain SQLAlchemy Core ([`Store.tables`][hirepipe.store.Store.tables]), documents are kept as
JSON text, and [`Store.upgrade`][hirepipe.store.Store.upgrade] applies the migrations shipped
here ([`MIGRATIONS`][hirepipe.store.MIGRATIONS], up to
[`SCHEMA_VERSION`][hirepipe.store.SCHEMA_VERSION]).

Each application's log is a hash chain (SHA-256 over canonical JSON, each row over the one
before): [`Store.verify`][hirepipe.store.Store.verify] names the first row changed after it was
written and [`Store.replay`][hirepipe.store.Store.replay] refuses it. Someone with write access
can still rewrite a whole chain; keep the heads ([`Store.head`][hirepipe.store.Store.head],
[`ChainHead`][hirepipe.store.ChainHead]) elsewhere and pass them to ``verify(heads=...)`` to
catch that. Personal values are held apart from the hashed documents, so
[`Store.erase`][hirepipe.store.Store.erase] removes them and the chain still verifies.
"""

from importlib.util import find_spec as _find_spec

if _find_spec("sqlalchemy") is None:  # pragma: no cover - depends on the installation
    raise ImportError(
        "hirepipe.store needs SQLAlchemy 2 (and psycopg 3 for PostgreSQL): "
        "pip install 'hirepipe[store]'"
    )

from hirepipe.errors import AlreadyStored as AlreadyStored
from hirepipe.errors import ConcurrentRequisitionUpdate as ConcurrentRequisitionUpdate
from hirepipe.errors import CorruptData as CorruptData
from hirepipe.errors import NotStored as NotStored
from hirepipe.errors import Problem as Problem
from hirepipe.errors import SchemaError as SchemaError
from hirepipe.errors import StoreError as StoreError
from hirepipe.errors import TransactionConflict as TransactionConflict
from hirepipe.store._chain import ChainHead as ChainHead
from hirepipe.store._outbox import StoreOutbox as StoreOutbox
from hirepipe.store._schema import MIGRATIONS as MIGRATIONS
from hirepipe.store._schema import SCHEMA_VERSION as SCHEMA_VERSION
from hirepipe.store._schema import Migration as Migration
from hirepipe.store._schema import Tables as Tables
from hirepipe.store._store import Store as Store

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "AlreadyStored",
    "ChainHead",
    "ConcurrentRequisitionUpdate",
    "CorruptData",
    "Migration",
    "NotStored",
    "Problem",
    "SchemaError",
    "Store",
    "StoreError",
    "StoreOutbox",
    "Tables",
    "TransactionConflict",
]
