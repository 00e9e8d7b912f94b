"""What errors and logs say, for tests that no personal value reaches them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest


def said(error: BaseException) -> str:
    """Everything an error and every error its chain reaches say (str, repr, args)."""
    parts: list[str] = []
    seen: set[int] = set()
    todo: list[Any] = [error]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        parts += [str(item), repr(item), repr(item.args)]
        todo += [item.__cause__, item.__context__]
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
