"""What errors and logs say, for tests that no personal value reaches them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest


def said(error: BaseException) -> str:
    """Everything an error and every error its chain reaches say.

    Its str, repr and args; a SQLAlchemy error's parameters, statement and detail, and the
    driver's error it wraps (``orig``); psycopg's diagnostics (the server's detail and
    context).
    """
    parts: list[str] = []
    seen: set[int] = set()
    todo: list[Any] = [error]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        parts += [str(item), repr(item), repr(item.args)]
        parts += [repr(getattr(item, name, None)) for name in ("params", "statement", "detail")]
        diag = getattr(item, "diag", None)
        if diag is not None:
            parts += [repr(diag.message_detail), repr(diag.context)]
        todo += [item.__cause__, item.__context__, getattr(item, "orig", None)]
    return "\n".join(parts)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured log line, its arguments and its traceback."""
    parts = [caplog.text]
    for record in caplog.records:
        parts += [record.getMessage(), repr(record.args), record.exc_text or ""]
    return "\n".join(parts)


def leaked(text: str, personal: Iterable[str]) -> list[str]:
    """The personal values found in ``text``."""
    return [value for value in personal if value in text]
