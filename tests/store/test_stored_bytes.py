"""The rows a run of fires writes are byte for byte the ones they always were.

Speed work on the store's write path (the log row's documents, the hash's envelope, the
snapshot's text, the bound time) must not change one stored byte: the chain's hashes cover
them, and rows written by an older version are verified by a newer one. A fixed sequence of
events (personal text among their data, a candidate with a name outside ASCII, times outside
UTC) is fired with the candidates' keys fixed, and every application and log row is compared,
through one SHA-256 of their values, with what the store wrote before that work (issue 15,
eighth pass).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from typing import Any

import pendulum
import pytest

from hirepipe import GuardRejected, Pipeline, TransitionNotAllowed
from hirepipe.store import _personal
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from tests.store import helpers as store_helpers
from tests.store.helpers import POLICY, Database

database = store_helpers.database

EVENTS = [
    ("hold", {"reason": "budget freeze"}),
    ("resume", {"reason": "budget back"}),
    ("note", {"text": 'Spoke with Zoë about the offer \u2014 "keen"\n'}),
    ("hold", {"reason": "waiting on the panel"}),
    ("resume", {"reason": "panel ready"}),
    ("inquiry", {"text": "asked about remote work"}),
    ("start_debrief", {}),
    ("withdraw", {"reason": "took another offer"}),
]

# sha256 of every stored row's values (``_rows``) as the store wrote them before the eighth
# pass of issue 15 (per backend: their columns read back as different types)
EXPECTED = {
    "sqlite": "a145db770bce1302077bdbf783f765a1b22769d82ce5d8b04382775e764f242a",
    "postgresql": "2869d400a2cd30ee9ddd67f2b3d6d25f38560b31932515bf66ec95dda1308382",
}


def _plain(value: Any) -> Any:
    """A column's value as text, the same on SQLite and PostgreSQL (times in UTC)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # SQLite keeps UTC without its offset
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    return value


def _rows(database: Database) -> str:
    digest = hashlib.sha256()
    for table, order in (
        ("hirepipe_applications", "id"),
        ("hirepipe_transitions", "application_id, version"),
    ):
        for row in database.execute(f"SELECT * FROM {database.table(table)} ORDER BY {order}"):
            found = {name: _plain(value) for name, value in row._mapping.items() if name != "seq"}
            digest.update(repr(sorted(found.items())).encode())
    return digest.hexdigest()


def test_a_run_writes_the_rows_it_always_wrote(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = iter(f"{number:064x}" for number in range(1, 100))
    monkeypatch.setattr(_personal, "new_key", lambda: next(keys))
    clock = FakeClock(pendulum.datetime(2025, 3, 28, 17, 30, 15, 250, tz="Europe/Berlin"))
    pipeline = Pipeline(POLICY, clock=clock)
    store = database.store(pipeline)
    requisition = make_requisition()
    names = ["Zoë Ångström", "Candidate 2", "李雷"]
    for number, name in enumerate(names, 1):
        application = make_application(
            Pipeline(POLICY, clock=clock),
            requisition,
            stage="interviewed",
            candidate=make_candidate(number, name=name),
        )
        application.id = f"app-{number}"
        store.add(application, requisition)
    for round_number, (event, data) in enumerate(EVENTS):
        for number in range(1, len(names) + 1):
            clock.advance(hours=round_number * 7 + number, microseconds=number)
            with contextlib.suppress(GuardRejected, TransitionNotAllowed):
                store.fire(f"app-{number}", event, actor="maria", **data)
    store.close()
    assert _rows(database) == EXPECTED[database.backend]
