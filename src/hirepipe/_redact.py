"""What an error may say where personal data must not go: logs, stored problems, other errors.

Logs, a store's problems and the messages of hirepipe's own errors are not erased with a
candidate's data, so nothing a candidate's data may have reached is put there:

- a Pydantic ``ValidationError`` is said by ``validation_summary``: where each error is, its
  message and its type, never the value it was given (its text, with ``input_value=...``,
  quotes the values of a corrupt row: names, addresses, notes);
- any other exception by ``error_summary``: its class (a hook's SMTP error repeats the
  recipient's address in its message, so the message is left out). The exception itself goes
  only where the host asks for it (``Pipeline.hook_failures``), never into a log line.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from hirepipe.errors import GuardRejected

__all__ = ["assign_hiding_input", "error_summary", "name_of", "validation_summary"]

_SHOWN = 5  # errors said one by one; the rest are counted
_QUOTED = 3  # an input string shorter than this is not looked for in a message: too common
_HIDDEN = "<value>"


def validation_summary(error: ValidationError) -> str:
    """Say what ``error`` found without the values it was given.

    ``"2 validation errors for Notification: to: Field required [missing]; attempts: Input
    should be a valid integer [int_parsing]"``: each error's location, message and type; the
    input, the URL and the context are left out, and a message quoting the input (a validator's
    own text may: ``unknown locale 'xx'``) has the quoted value replaced by ``<value>``.
    """
    details = error.errors(include_url=False, include_context=False)
    parts = []
    for detail in details[:_SHOWN]:
        where = ".".join(str(part) for part in detail["loc"]) or "the value"
        parts.append(f"{where}: {_unquoted(detail['msg'], detail.get('input'))} [{detail['type']}]")
    if len(details) > _SHOWN:
        parts.append(f"and {len(details) - _SHOWN} more")
    count = len(details)
    noun = "validation error" if count == 1 else "validation errors"
    return f"{count} {noun} for {error.title}: " + "; ".join(parts)


_FROZEN = frozenset({"frozen_instance", "frozen_field"})


def assign_hiding_input(model: BaseModel, name: str, value: Any) -> None:
    """``BaseModel.__setattr__``, its error for a frozen model or field without ``value``.

    Pydantic raises that error itself, ignoring the model's ``hide_input_in_errors``: its text
    quoted the value given (``input_value='Ada Lovelace'``). The same error is raised, its input
    hidden; every other error of an assignment is the validator's, already hidden.
    """
    try:
        BaseModel.__setattr__(model, name, value)
    except ValidationError as error:
        details = error.errors(include_url=False)
        if len(details) != 1 or details[0]["type"] not in _FROZEN:
            raise
        raise ValidationError.from_exception_data(
            error.title,
            [{"type": details[0]["type"], "loc": details[0]["loc"], "input": value}],
            hide_input=True,
        ) from None


def error_summary(exc: BaseException) -> str:
    """Say what ``exc`` is without its message, which may quote personal data.

    Its class (module-qualified unless a builtin); a ValidationError's
    ``validation_summary``; a GuardRejected's blocker codes.
    """
    kind = type(exc)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    if isinstance(exc, ValidationError):
        return f"{name}: {validation_summary(exc)}"
    if isinstance(exc, GuardRejected):
        return f"{name}: blocked by {', '.join(exc.codes)}"
    return f"{name} (its message is left out: it may quote personal data)"


def name_of(hook: object) -> str:
    """Name a hook by its function's or its class's qualified name, never its ``repr``.

    A ``repr`` may show what the hook holds (a ``functools.partial``'s arguments: an address);
    a partial is named by its function.
    """
    if isinstance(hook, functools.partial):
        return f"functools.partial({name_of(hook.func)})"
    named = getattr(hook, "__qualname__", None)
    if not isinstance(named, str):
        named = type(hook).__qualname__
    module = getattr(hook, "__module__", None)
    if not isinstance(module, str):
        module = type(hook).__module__
    return named if module == "builtins" else f"{module}.{named}"


def _unquoted(message: str, given: Any) -> str:
    for value in sorted(set(_strings(given)), key=len, reverse=True):
        if len(value) >= _QUOTED and value in message:
            message = message.replace(value, _HIDDEN)
    return message


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():  # the keys are field names
            yield from _strings(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)
