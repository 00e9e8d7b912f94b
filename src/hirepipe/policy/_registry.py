"""Named guards and effects, so that a policy can be written down as data.

A policy file names its guards and effects; a [`Registry`][hirepipe.policy.Registry] turns those
names back into callables. [`hirepipe.standard_registry`][hirepipe.standard.standard_registry]
knows the standard ones; a company adds its own:

```python
registry = standard_registry()

@registry.guard(description="the take-home assessment passed")
def assessment_passed(ctx):
    if not ctx.application.history or ...:
        yield Blocker("assessment_missing", "the assessment has not been graded")
```

or allows a package whose objects may be named by dotted path
(``Registry(allow_imports=["acme.hiring"])`` resolves ``"acme.hiring.guards:passed"``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TypeVar

from hirepipe.policy._specs import (
    Effect,
    EffectSpec,
    EventData,
    Guard,
    GuardSpec,
    NoData,
    name_of,
)

__all__ = ["Registry", "default_registry", "register_built_in"]

_F = TypeVar("_F", bound=Callable[..., object])


class Registry:
    """Guards and effects by name; names with a ``:`` may import from allowed packages.

    ``allow_imports`` holds dotted package names (``"acme.hiring"``); anything else raises
    ``ValueError``.
    """

    __slots__ = ("_effects", "_guards", "allow_imports")

    def __init__(
        self,
        *,
        guards: Iterable[GuardSpec] = (),
        effects: Iterable[EffectSpec] = (),
        allow_imports: Iterable[str] = (),
    ) -> None:
        self._guards: dict[str, GuardSpec] = {spec.name: spec for spec in guards}
        self._effects: dict[str, EffectSpec] = {spec.name: spec for spec in effects}
        if isinstance(allow_imports, str):  # each letter would be a package
            raise ValueError(
                f"allow_imports takes a list of package names, not one string: "
                f"allow_imports=[{allow_imports!r}]"
            )
        self.allow_imports: tuple[str, ...] = tuple(_package(name) for name in allow_imports)

    @property
    def guards(self) -> dict[str, GuardSpec]:
        """A copy of the registered guards by name."""
        return dict(self._guards)

    @property
    def effects(self) -> dict[str, EffectSpec]:
        """A copy of the registered effects by name."""
        return dict(self._effects)

    def add_guard(
        self,
        check: Guard | GuardSpec,
        *,
        name: str | None = None,
        description: str = "",
        checks: str | None = None,
    ) -> GuardSpec:
        """Register a guard (a callable or a ``GuardSpec``) and return its spec.

        The name defaults to the function's ``__name__``; registering another guard under a
        taken name raises ``ValueError``.
        """
        spec = check if isinstance(check, GuardSpec) else None
        if spec is None:
            assert not isinstance(check, GuardSpec)
            spec = GuardSpec.of(check, name=name, description=description, checks=checks)
        return _add(self._guards, spec, "guard")

    def guard(
        self, *, name: str | None = None, description: str = "", checks: str | None = None
    ) -> Callable[[_F], _F]:
        """Register the decorated function as a guard: ``@registry.guard()``."""

        def register(fn: _F) -> _F:
            self.add_guard(fn, name=name, description=description, checks=checks)  # type: ignore[arg-type]
            return fn

        return register

    def add_effect(
        self,
        apply: Effect | EffectSpec,
        *,
        name: str | None = None,
        data: type[EventData] = NoData,
    ) -> EffectSpec:
        """Register an effect (a callable or an ``EffectSpec``) and return its spec.

        ``data`` is the model validating the event's keyword data. Effects registered here are
        not trusted: the engine validates every field they change.
        """
        if isinstance(apply, EffectSpec):
            return _add(self._effects, apply, "effect")
        spec = EffectSpec(name_of(apply, "effect", name), apply, data)
        return _add(self._effects, spec, "effect")

    def effect(
        self, *, name: str | None = None, data: type[EventData] = NoData
    ) -> Callable[[_F], _F]:
        """Register the decorated function as an effect accepting ``data``."""

        def register(fn: _F) -> _F:
            self.add_effect(fn, name=name, data=data)  # type: ignore[arg-type]
            return fn

        return register

    def resolve_guard(self, name: str) -> GuardSpec | None:
        """Return the guard called ``name``, importing an allowed dotted path; else ``None``."""
        spec = self._guards.get(name)
        if spec is None and ":" in name:
            found = self._import(name)
            if isinstance(found, GuardSpec):
                spec = found
            elif callable(found):
                spec = GuardSpec(name, found)
        return spec

    def resolve_effect(self, name: str) -> EffectSpec | None:
        """Return the effect called ``name``, importing an allowed dotted path; else ``None``."""
        spec = self._effects.get(name)
        if spec is None and ":" in name:
            found = self._import(name)
            if isinstance(found, EffectSpec):
                spec = found
            elif callable(found):
                spec = EffectSpec(name, found)
        return spec

    def merged(self, other: Registry) -> Registry:
        """Return a new registry with this one's entries, then ``other``'s (which win)."""
        return Registry(
            guards=[*self._guards.values(), *other._guards.values()],
            effects=[*self._effects.values(), *other._effects.values()],
            allow_imports=(*self.allow_imports, *other.allow_imports),
        )

    def _import(self, dotted: str) -> object | None:
        module_name, _, attribute = dotted.partition(":")
        allowed = any(
            module_name == prefix or module_name.startswith(prefix + ".")
            for prefix in self.allow_imports
        )
        if not allowed or not attribute:
            return None
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return None
        return getattr(module, attribute, None)

    def __repr__(self) -> str:
        return f"Registry({len(self._guards)} guards, {len(self._effects)} effects)"


def _package(name: str) -> str:
    """Return ``name`` if it is a dotted package name (``acme.hiring``); raise ValueError."""
    if not (isinstance(name, str) and name and all(p.isidentifier() for p in name.split("."))):
        raise ValueError(
            f"allow_imports: {name!r} is not a package name; give dotted names such as "
            "'acme.hiring'"
        )
    return name


_Spec = TypeVar("_Spec", GuardSpec, EffectSpec)


def _add(table: dict[str, _Spec], spec: _Spec, kind: str) -> _Spec:
    existing = table.get(spec.name)
    if existing is not None and existing != spec:
        raise ValueError(f"a {kind} named {spec.name!r} is already registered; pick another name")
    table[spec.name] = spec
    return spec


_BUILT_IN: list[Callable[[], Registry]] = []
_STANDARD = "hirepipe.standard"


def register_built_in(factory: Callable[[], Registry]) -> None:
    """Let every policy document name the guards and effects of ``factory()`` without a registry.

    [`hirepipe.standard`][hirepipe.standard] registers the standard guards and effects when it
    is imported, so the policy layer never imports the layer above it; ``default_registry``
    imports it by name first, since ``import hirepipe`` imports nothing until a name is used.
    """
    if factory not in _BUILT_IN:
        _BUILT_IN.append(factory)


def default_registry() -> Registry:
    """Return a new registry of the built-in guards and effects: those a document may name.

    [`hirepipe.Policy.from_dict`][hirepipe.policy.Policy.from_dict] and
    [`from_file`][hirepipe.policy.Policy.from_file] resolve names through it when given no
    registry.
    """
    # by name, at call time: the standard lifecycle sits above this layer and registers itself
    importlib.import_module(_STANDARD)
    registry = Registry()
    for factory in _BUILT_IN:
        registry = registry.merged(factory())
    return registry
