"""Turn the command line's options into hirepipe objects, naming the option when one is bad.

A value hirepipe cannot use raises ``OptionError`` (exit code 2), whose message names the
option as typed (``--availability``, not the field ``approver_availability``); a file that
does not load raises what loading raises (exit code 1). Needs neither typer nor rich:

```python
scenario = make_scenario({"approver_availability": 2.0})  # OptionError: --availability: ...
```
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hirepipe.errors import CalendarError, EstimateError, PolicyError
from hirepipe.policy import Policy
from hirepipe.simulate import Scenario
from hirepipe.timeline import BusinessCalendar, Priors

__all__ = [
    "SCENARIO_OPTIONS",
    "OptionError",
    "check_calendar",
    "check_industry",
    "check_stages",
    "describe_validation",
    "industries_help",
    "load_policy",
    "make_scenario",
    "parse_day",
    "parse_moment",
    "parse_pairs",
]

SCENARIO_OPTIONS: Mapping[str, str] = {
    "industry": "--industry",
    "company_size": "--company-size",
    "candidates": "--candidates",
    "headcount": "--headcount",
    "rounds": "--rounds",
    "approvers": "--approvers",
    "approver_availability": "--availability",
    "extra_days": "--extra-days",
    "stage_days": "--stage-days",
    "periodic_updates": "--periodic-updates",
    "country": "--country",
    "subdivision": "--subdivision",
    "time_zone": "--time-zone",
    "start": "--start",
}
"""The option that sets each scenario field (and each requisition field ``estimate`` sets)."""


class OptionError(ValueError):
    """An option's value hirepipe cannot use; the message names the option."""


def describe_validation(exc: ValidationError, options: Mapping[str, str]) -> str:
    """Say what a ValidationError found, naming options instead of model fields."""
    parts = []
    for error in exc.errors():
        location = [str(p) for p in error["loc"]]
        message = error["msg"].removeprefix("Value error, ")
        if location:
            option = options.get(location[0], location[0])
            where = " ".join([option, *location[1:]])
            parts.append(f"{where}: {message}")
        else:
            parts.append(message)
    return "; ".join(parts)


def make_scenario(fields: Mapping[str, Any]) -> Scenario:
    """Return the Scenario of ``fields``; raise OptionError naming the options at fault."""
    try:
        return Scenario(**fields)
    except ValidationError as exc:
        raise OptionError(describe_validation(exc, SCENARIO_OPTIONS)) from None


def parse_day(text: str, option: str) -> date:
    """Return the date ``text`` (YYYY-MM-DD) given to ``option``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise OptionError(f"{option} takes a date as YYYY-MM-DD, not {text!r}") from None


def parse_moment(text: str, option: str) -> datetime:
    """Return the aware moment ``text`` (ISO 8601 with an offset: 2026-11-30T17:00:00+01:00)."""
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        raise OptionError(
            f"{option} takes a moment as ISO 8601 with its offset, like "
            f"2026-11-30T17:00:00+01:00; not {text!r}"
        )
    return found


def parse_pairs(items: Sequence[str], option: str) -> dict[str, float]:
    """Return ``stage=number`` items (``approval=5``) given to ``option`` as a mapping."""
    found: dict[str, float] = {}
    for item in items:
        stage, sep, value = item.partition("=")
        try:
            days = float(value)
        except ValueError:
            sep = ""
        if not sep or not stage.strip():
            raise OptionError(f"{option} takes stage=business-days, like approval=5; not {item!r}")
        if not math.isfinite(days):
            raise OptionError(f"{option} takes a finite number of business days: not {item!r}")
        found[stage.strip()] = days
    return found


def check_stages(policy: Policy, names: Iterable[str], option: str) -> None:
    """Raise OptionError when ``option`` names a stage ``policy`` does not have."""
    unknown = [name for name in dict.fromkeys(names) if name not in policy.stages]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise OptionError(
            f"{option}: unknown stage{plural} {', '.join(map(repr, unknown))}; the stages of "
            f"{policy.label} are: {', '.join(policy.stages)}"
        )


def check_industry(name: str, priors: Priors | None = None) -> str:
    """Return the industry key ``name`` means; raise OptionError listing the known ones."""
    try:
        return (priors or Priors.load()).industry(name)
    except EstimateError as exc:
        raise OptionError(f"--industry: {exc}") from None


def industries_help() -> str:
    """The ``--industry`` help: what the option means and every value it takes."""
    priors = Priors.load()
    return (
        f"Industry of the published timelines: {', '.join(sorted(priors.industries))} "
        "(or an alias, such as engineering)."
    )


def check_calendar(country: str, subdivision: str | None, time_zone: str) -> None:
    """Raise OptionError when the business calendar of these options cannot be built."""
    try:
        BusinessCalendar(country, subdiv=subdivision, time_zone=time_zone)
    except CalendarError as exc:
        message = str(exc)
        option = (
            "--time-zone"
            if "time zone" in message
            else "--subdivision"
            if "subdivision" in message
            else "--country"
        )
        raise OptionError(f"{option}: {exc}") from None


def load_policy(
    source: str, allow_imports: Sequence[str] = (), *, options: Sequence[str] = ()
) -> Policy:
    """The policy in file ``source``; ``standard`` (with no such file) is the standard policy.

    ``options`` turns on options of the standard policy (``--option``), structured scorecards
    with the example scheme; a policy file is refused with options (it says what it has on).

    ``allow_imports`` names packages whose guards and effects the file may name by dotted path
    (``acme.hiring.guards:assessment_passed``); the current directory is importable. Raises
    [`PolicyError`][hirepipe.errors.PolicyError] for a file that does not load (exit code 1).
    """
    registry = None
    if allow_imports:
        from hirepipe.policy import Registry
        from hirepipe.standard import standard_registry

        try:  # checked first, whatever the file: a bad --allow-imports is an error on its own
            allowed = Registry(allow_imports=allow_imports)
        except ValueError as exc:
            message = str(exc).removeprefix("allow_imports: ")
            raise OptionError(f"--allow-imports: {message}") from None
        registry = standard_registry().merged(allowed)
        if "" not in sys.path:
            sys.path.insert(0, "")  # a company's own package, run from its checkout
    if source == "standard" and not Path(source).exists():
        from hirepipe.simulate._options import options_policy

        return options_policy(tuple(options), None)
    if options:
        raise OptionError(
            f"--option turns on options of the standard policy, and {source!r} is a policy "
            "file: turn them on in the file (write it from standard_policy(...)), or use "
            "'standard'"
        )
    return Policy.from_file(source, registry=registry)


def describe_policy_error(exc: PolicyError) -> str:
    """Say every problem of a policy in one line."""
    count = len(exc.problems)
    listed = "; ".join(str(problem) for problem in exc.problems)
    return f"the policy has {count} problem{'s' if count != 1 else ''}: {listed}"
