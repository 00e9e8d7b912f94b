"""Policies as documents: load from a dict, TOML, YAML or JSON, and dump back exactly.

Loading never raises anything but [`PolicyError`][hirepipe.errors.PolicyError], which lists every
problem at once, each with where it is (file and key) and what to do.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from hirepipe.errors import Blocker, PolicyError, PolicyProblem
from hirepipe.policy._permissions import Role
from hirepipe.policy._registry import Registry, default_registry
from hirepipe.policy._roles import Duration, FollowUp, Owner, ServiceLevel, StageRole
from hirepipe.policy._specs import (
    Context,
    EffectSpec,
    EventSpec,
    GuardSpec,
    NotificationRule,
    PolicySettings,
    Recipient,
    RejectionSide,
    StageKind,
    StageSpec,
)

if TYPE_CHECKING:
    from hirepipe.policy._policy import Policy

__all__ = ["MAX_FILE_BYTES", "dump_toml", "load_dict", "load_file", "to_dict"]

_Spec = TypeVar("_Spec", GuardSpec, EffectSpec)

MAX_FILE_BYTES = 1_048_576
"""The largest policy file read; a policy is a page of text, not megabytes."""


class _Doc(BaseModel):
    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid", strict=True)


class _ServiceDoc(_Doc):
    days: StrictInt | StrictStr
    owner: Annotated[Owner, Strict(False)] = Owner.hiring_manager
    deadline: StrictStr | None = None
    owes: StrictStr = ""


class _FollowUpDoc(_ServiceDoc):
    deadline: StrictStr
    closed_by: list[StrictStr] = Field(default_factory=list)
    stages: list[StrictStr] = Field(default_factory=list)
    unless: StrictStr | None = None

    def spec(self) -> FollowUp:
        """The follow-up this document describes."""
        return FollowUp(
            self.days,
            self.owner,
            self.deadline,
            self.owes,
            closed_by=tuple(self.closed_by),
            stages=tuple(self.stages),
            unless=self.unless,
        )


class _DurationDoc(_Doc):
    mean_days: StrictFloat | StrictInt | None = None
    cv: StrictFloat | StrictInt | None = None
    prior: StrictStr | None = None


class _StageDoc(_Doc):
    name: StrictStr
    kind: Annotated[StageKind, Strict(False)] = StageKind.active
    description: StrictStr = ""
    role: Annotated[StageRole, Strict(False)] | None = None
    service: _ServiceDoc | None = None
    duration: _DurationDoc | None = None
    forward: StrictStr | None = None
    updates: StrictBool | None = None
    exits: dict[StrictStr, StrictFloat | StrictInt] = Field(default_factory=dict)

    def spec(self) -> StageSpec:
        """The stage this document describes."""
        service = self.service
        duration = self.duration
        return StageSpec(
            self.name,
            self.kind,
            self.description,
            role=self.role,
            service=ServiceLevel(service.days, service.owner, service.deadline, service.owes)
            if service is not None
            else None,
            duration=Duration(duration.mean_days, duration.cv, duration.prior)
            if duration is not None
            else None,
            forward=self.forward,
            updates=self.updates,
            exits=tuple((name, float(chance)) for name, chance in self.exits.items()),
        )


class _EventDoc(_Doc):
    name: StrictStr
    sources: list[StrictStr]
    dest: StrictStr | None = None
    guards: list[StrictStr] = Field(default_factory=list)
    effect: StrictStr | None = None
    description: StrictStr = ""
    retarget: StrictBool = False
    fired_by: list[StrictStr] = Field(default_factory=lambda: [str(Role.anyone)])
    on_behalf: list[StrictStr] = Field(default_factory=list)
    follow_up: _FollowUpDoc | None = None


class _RuleDoc(_Doc):
    name: StrictStr
    template: StrictStr
    to: Annotated[Recipient, Strict(False)]
    events: list[StrictStr] = Field(default_factory=list)
    stages: list[StrictStr] = Field(default_factory=list)
    deadline: StrictStr | None = None
    delay_days: StrictInt = 0
    description: StrictStr = ""
    records: StrictStr | None = None


class _PolicyDoc(_Doc):
    name: StrictStr
    version: StrictStr
    initial: StrictStr
    stages: list[_StageDoc]
    events: list[_EventDoc]
    settings: dict[StrictStr, Any] = Field(default_factory=dict)
    rejection_reasons: dict[StrictStr, Annotated[RejectionSide, Strict(False)]] = Field(
        default_factory=dict
    )
    notifications: list[_RuleDoc] = Field(default_factory=list)


def _where(source: str, location: tuple[int | str, ...]) -> str:
    key = ""
    for part in location:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return f"{source}: {key or '(document)'}"


def _problems(
    source: str, error: ValidationError, prefix: tuple[str, ...] = ()
) -> list[PolicyProblem]:
    return [
        PolicyProblem(_where(source, (*prefix, *e["loc"])), _message(e["msg"], e["type"]))
        for e in error.errors(include_url=False)
    ]


def _message(message: str, kind: str) -> str:
    if kind == "extra_forbidden":
        return "unknown key; remove it or check its spelling"
    if kind == "missing":
        return "required key missing; add it"
    return message


def load_dict(
    cls: type[Policy],
    document: object,
    *,
    registry: Registry | None = None,
    source: str = "<dict>",
) -> Policy:
    """Build a ``cls`` from a document (see ``Policy.from_dict``)."""
    if not isinstance(document, Mapping):
        raise PolicyError(
            [PolicyProblem(source, f"a policy is a table of keys, not {type(document).__name__}")]
        )
    try:
        doc = _PolicyDoc.model_validate(dict(document))
    except ValidationError as error:
        raise PolicyError(_problems(source, error)) from None
    registry = registry if registry is not None else default_registry()
    problems: list[PolicyProblem] = []
    try:
        settings = PolicySettings.model_validate(doc.settings)
    except ValidationError as error:
        problems += _problems(source, error, ("settings",))
        settings = PolicySettings()
    events = [_event(doc_event, registry, source, problems) for doc_event in doc.events]
    rules = [
        NotificationRule(
            name=r.name,
            template=r.template,
            to=r.to,
            events=tuple(r.events),
            stages=tuple(r.stages),
            deadline=r.deadline,
            delay_days=r.delay_days,
            description=r.description,
            records=r.records,
        )
        for r in doc.notifications
    ]
    try:
        policy = cls(
            name=doc.name,
            version=doc.version,
            initial=doc.initial,
            stages=[s.spec() for s in doc.stages],
            events=events,
            settings=settings,
            rejection_reasons=doc.rejection_reasons,
            notifications=rules,
        )
    except PolicyError as error:
        problems += [PolicyProblem(f"{source}: {p.where}", p.message) for p in error.problems]
    if problems:
        raise PolicyError(problems)
    return policy


def _never(_context: Context) -> Iterator[Blocker]:  # pragma: no cover - never fired
    yield from ()


def _resolve(
    resolve: Callable[[str], _Spec | None],
    name: str,
    where: str,
    missing: str,
    problems: list[PolicyProblem],
) -> _Spec | None:
    """Resolve ``name``; when it cannot be, list the problem and return ``None``.

    An allowed module that raises on import is a problem of the document like a missing
    name: loading promises PolicyError and nothing else.
    """
    try:
        spec = resolve(name)
    except Exception as error:  # a company's module may raise anything while it imports
        module = name.partition(":")[0]
        problems.append(
            PolicyProblem(
                where,
                f"importing {module!r} raised {type(error).__name__}: {error}; fix the module "
                "or stop naming it",
            )
        )
        return None
    if spec is None:
        problems.append(PolicyProblem(where, missing))
    return spec


def _event(
    doc: _EventDoc, registry: Registry, source: str, problems: list[PolicyProblem]
) -> EventSpec:
    where = f"{source}: events.{doc.name}"
    guards = []
    for name in doc.guards:
        missing = (
            f"no guard named {name!r}; register it (Registry.add_guard) "
            "or allow its package (Registry(allow_imports=...))"
        )
        spec = _resolve(registry.resolve_guard, name, f"{where}.guards", missing, problems)
        # a stand-in keeps checking the rest of the document
        guards.append(spec if spec is not None else GuardSpec(name, _never))
    effect: EffectSpec | None = None
    if doc.effect is not None:
        missing = f"no effect named {doc.effect!r}; register it (Registry.add_effect)"
        effect = _resolve(registry.resolve_effect, doc.effect, f"{where}.effect", missing, problems)
    return EventSpec(
        name=doc.name,
        sources=tuple(doc.sources),
        dest=doc.dest,
        guards=tuple(guards),
        effect=effect,
        description=doc.description,
        retarget=doc.retarget,
        fired_by=tuple(doc.fired_by),
        on_behalf=tuple(doc.on_behalf),
        follow_up=doc.follow_up.spec() if doc.follow_up is not None else None,
    )


def load_file(
    cls: type[Policy], path: str | os.PathLike[str], *, registry: Registry | None = None
) -> Policy:
    """Load a policy from a ``.toml``, ``.yaml``/``.yml`` or ``.json`` file.

    Only a regular file (or a link to one) of at most ``MAX_FILE_BYTES`` is read, and no
    more than one byte past that limit whatever its recorded size: a device, a pipe or a
    folder is refused before anything is read from it.
    """
    path = Path(path)
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in _PARSERS:
        raise PolicyError([PolicyProblem(source, _UNKNOWN_SUFFIX.format(suffix=suffix))])
    try:
        data = _read_regular(path, source)
        text = data.decode("utf-8")
    except OSError as error:
        raise PolicyError(
            [PolicyProblem(source, f"cannot read the file: {error.strerror or error}")]
        ) from None
    except UnicodeDecodeError as error:
        raise PolicyError(
            [PolicyProblem(source, f"not UTF-8 text (byte {error.start}); save it as UTF-8")]
        ) from None
    document = _parse(text, suffix, source)
    return load_dict(cls, document, registry=registry, source=source)


def _read_regular(path: Path, source: str) -> bytes:
    """Return the bytes of a regular file of at most MAX_FILE_BYTES; raise PolicyError if not.

    The file is opened without blocking (a pipe would wait for a writer), checked on the open
    descriptor (a name can be swapped between a check and an open), and read no further than
    one byte past the limit: a size on record can be wrong (``/proc``) or change.
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        regular = stat.S_ISREG(os.fstat(descriptor).st_mode)
    except OSError:
        os.close(descriptor)
        raise
    if not regular:
        os.close(descriptor)
        raise PolicyError(
            [
                PolicyProblem(
                    source,
                    "not a regular file (a device, pipe or folder); give the path of the "
                    "policy file itself",
                )
            ]
        )
    with os.fdopen(descriptor, "rb") as file:
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise PolicyError(
            [
                PolicyProblem(
                    source,
                    f"too large for a policy: more than the limit of {MAX_FILE_BYTES} bytes; "
                    "is this the right file?",
                )
            ]
        )
    return data


_PARSERS = frozenset({".toml", ".json", ".yaml", ".yml"})
_UNKNOWN_SUFFIX = "unknown file type {suffix!r}; use .toml, .yaml, .yml or .json"


def _parse(text: str, suffix: str, source: str) -> object:
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix == ".json":
            return json.loads(text)
        if suffix in {".yaml", ".yml"}:
            return _parse_yaml(text, source)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise PolicyError(
            [PolicyProblem(source, f"not valid {suffix[1:].upper()}: {error}")]
        ) from None
    except RecursionError:
        raise PolicyError([PolicyProblem(source, "nested too deeply to be a policy")]) from None
    raise PolicyError([PolicyProblem(source, _UNKNOWN_SUFFIX.format(suffix=suffix))])


def _parse_yaml(text: str, source: str) -> object:
    try:
        import yaml
    except ImportError:
        raise PolicyError(
            [PolicyProblem(source, "reading YAML needs PyYAML: pip install 'hirepipe[yaml]'")]
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PolicyError([PolicyProblem(source, f"not valid YAML: {error}")]) from None


# -- dumping ---------------------------------------------------------------------------------


def to_dict(policy: Policy) -> dict[str, Any]:
    """Return the policy as a plain document that ``load_dict`` reads back to an equal one."""
    return {
        "name": policy.name,
        "version": policy.version,
        "initial": policy.initial,
        # None is a setting left unset (TOML has no null): leaving it out reads back the same
        "settings": policy.settings.model_dump(mode="json", exclude_none=True),
        "rejection_reasons": {name: str(side) for name, side in policy.rejection_reasons.items()},
        "stages": [_stage_doc(s) for s in policy.stages.values()],
        "events": [_event_doc(e) for e in policy.events.values()],
        "notifications": [_rule_doc(r) for r in policy.notifications],
    }


def _stage_doc(stage: StageSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": stage.name, "kind": str(stage.kind)}
    doc["description"] = stage.description
    if stage.role is not None:
        doc["role"] = str(stage.role)
    if stage.forward is not None:
        doc["forward"] = stage.forward
    if stage.updates is not None:
        doc["updates"] = stage.updates
    if stage.exits:
        doc["exits"] = dict(stage.exits)
    if stage.service is not None:
        service = stage.service
        doc["service"] = {"days": service.days, "owner": str(service.owner)}
        if service.deadline is not None:
            doc["service"]["deadline"] = service.deadline
        if service.owes:
            doc["service"]["owes"] = service.owes
    if stage.duration is not None:
        duration = {
            "mean_days": stage.duration.mean_days,
            "cv": stage.duration.cv,
            "prior": stage.duration.prior,
        }
        doc["duration"] = {key: value for key, value in duration.items() if value is not None}
    return doc


def _event_doc(event: EventSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": event.name, "sources": list(event.sources)}
    if event.dest is not None:
        doc["dest"] = event.dest
    doc["guards"] = [g.name for g in event.guards]
    if event.effect is not None:
        doc["effect"] = event.effect.name
    doc["description"] = event.description
    if event.retarget:
        doc["retarget"] = True
    doc["fired_by"] = [str(role) for role in event.fired_by]
    if event.on_behalf:
        doc["on_behalf"] = [str(role) for role in event.on_behalf]
    follow_up = event.follow_up
    if follow_up is not None:
        doc["follow_up"] = {
            "days": follow_up.days,
            "owner": str(follow_up.owner),
            "deadline": follow_up.deadline,
            "owes": follow_up.owes,
            "closed_by": list(follow_up.closed_by),
            "stages": list(follow_up.stages),
        }
        if follow_up.unless is not None:
            doc["follow_up"]["unless"] = follow_up.unless
    return doc


def _rule_doc(rule: NotificationRule) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": rule.name,
        "template": rule.template,
        "to": str(rule.to),
        "events": list(rule.events),
        "stages": list(rule.stages),
    }
    if rule.deadline is not None:
        doc["deadline"] = rule.deadline
    doc["delay_days"] = rule.delay_days
    doc["description"] = rule.description
    if rule.records is not None:
        doc["records"] = rule.records
    return doc


def dump_toml(document: Mapping[str, Any]) -> str:
    """Return ``document`` (str keys; str, int, float, bool, list and dict values) as TOML.

    tomli-w writes it: quoting keys and escaping strings is a grammar's worth of rules
    (a key ending in a newline, DEL, quotes), and a writer of its own got them wrong.
    """
    return tomli_w.dumps(document)
