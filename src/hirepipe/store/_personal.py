"""Personal values held apart from the hashed log, so that erasing them keeps the chain whole.

A log row's documents (its record, the fields it changed) are stored with each personal value
([`hirepipe.privacy`][hirepipe.privacy]) replaced by a token, ``{"$personal": "<digest>"}``: the
HMAC-SHA256 of the value under the candidate's own key. The values themselves are kept in the
row's ``personal`` column (digest to value), outside the hash. Reading a row puts them back.

While the data is there, the digests prove it unchanged (the chain covers the digests, the key
recomputes them). Erasure empties ``personal`` and deletes the key: the tokens read back as
[`ERASED`][hirepipe.models.ERASED], the chain still verifies, and the digests, salted with a key
that no longer exists, cannot be matched against guesses of what was erased.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from hirepipe.models import ERASED, Application, TransitionRecord
from hirepipe.privacy import DataModels, map_personal
from hirepipe.store._chain import canonical

if TYPE_CHECKING:
    from hirepipe.store._schema import Tables

__all__ = [
    "TOKEN",
    "Split",
    "candidate_key",
    "check_digests",
    "digests_in",
    "new_key",
    "reveal",
    "split",
    "stored_documents",
]

TOKEN: Final = "$personal"
"""The key of a token object: ``{"$personal": "<64 hex digits>"}``."""


def new_key() -> str:
    """A fresh random key for one candidate (hex)."""
    return secrets.token_hex(32)


def digest(key: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under ``key``, hex.

    ``hmac.digest``, one call into OpenSSL: ``hmac.new`` builds an HMAC object in Python
    first (a stored event digests each personal value it writes).
    """
    return hmac.digest(bytes.fromhex(key), value.encode("utf-8"), "sha256").hex()


class Split:
    """Splits documents into their public form and the personal values taken out."""

    __slots__ = ("_key", "data_models", "values")

    def __init__(self, key: str, data_models: DataModels) -> None:
        self._key = key
        self.data_models = data_models
        self.values: dict[str, str] = {}

    def public(self, document: Mapping[str, Any], model: type[BaseModel]) -> dict[str, Any]:
        """``document`` (``model``'s JSON data, or part of it) with its personal values tokens."""
        return map_personal(document, model, self._token, data_models=self.data_models)

    def _token(self, value: str) -> dict[str, str]:
        found = digest(self._key, value)
        self.values[found] = value
        return {TOKEN: found}


def split(
    key: str, data_models: DataModels, *documents: tuple[Mapping[str, Any], type[BaseModel]]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Return each document's public form, and the personal values taken out of them all."""
    splitter = Split(key, data_models)
    return [splitter.public(document, model) for document, model in documents], splitter.values


def _is_token(value: dict[str, Any]) -> bool:
    return len(value) == 1 and isinstance(value.get(TOKEN), str)


def reveal(document: Any, values: Mapping[str, str] | None) -> Any:
    """Put the personal values back into a public document; ERASED where they are gone."""
    if isinstance(document, dict):
        if _is_token(document):
            found = values.get(document[TOKEN]) if values is not None else None
            return found if found is not None else ERASED
        return {key: reveal(item, values) for key, item in document.items()}
    if isinstance(document, list):
        return [reveal(item, values) for item in document]
    return document


def digests_in(document: Any) -> list[str]:
    """The digests of the tokens in a public document, in order."""
    if isinstance(document, dict):
        if _is_token(document):
            return [document[TOKEN]]
        return [found for item in document.values() for found in digests_in(item)]
    if isinstance(document, list):
        return [found for item in document for found in digests_in(item)]
    return []


def check_digests(
    key: str | None, wanted: list[str], values: Mapping[str, str] | None
) -> str | None:
    """Return what is wrong with a row's personal values, or None.

    ``wanted`` are the digests its documents name; ``values`` the personal column (None once
    erased). Every digest needs its value, and every value must have the digest named.
    """
    if values is None:
        return None if not wanted else "erased"
    if set(values) != set(wanted):
        return "the personal values do not match the tokens of the row"
    if key is None:
        return "the candidate's key is missing"
    for found, value in values.items():
        if not isinstance(value, str) or not hmac.compare_digest(digest(key, value), found):
            return "a personal value was changed after it was written"
    return None


def parse_values(text: str | None) -> dict[str, str] | None:
    """Read a row's personal column (None when empty or erased). Raises ValueError."""
    if text is None:
        return None
    values = json.loads(text)
    if not isinstance(values, dict):
        raise ValueError("the personal values are JSON but not an object")
    return values


def candidate_key(connection: Connection, tables: Tables, candidate_id: str) -> str:
    """The candidate's key for their personal values, made on first use."""
    keys = tables.personal_keys
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(  # the key as a parameter: see _writes.insert_ignore
        dialect.insert(keys).on_conflict_do_nothing(index_elements=["candidate_id"]),
        {"candidate_id": candidate_id, "key": new_key()},
    )
    found = connection.execute(
        select(keys.c.key).where(keys.c.candidate_id == candidate_id)
    ).scalar_one()
    return str(found)


def stored_documents(
    *,
    changes: Mapping[str, Any],
    record: Mapping[str, Any] | None = None,
    key: str,
    data_models: DataModels,
) -> tuple[str | None, str, str | None]:
    """Return a log row's record, changes and personal columns.

    ``changes`` (an Application's fields as JSON data) and ``record`` (a TransitionRecord's)
    become their public form, canonical JSON; their personal values, held apart, the
    ``personal`` column (None when there are none).
    """
    documents: list[tuple[Mapping[str, Any], type[BaseModel]]] = [(changes, Application)]
    if record is not None:
        documents.append((record, TransitionRecord))
    public, values = split(key, data_models, *documents)
    return (
        canonical(public[1]) if record is not None else None,
        canonical(public[0]),
        canonical(values) if values else None,
    )
