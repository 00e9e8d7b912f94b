"""Packages that import their names on first use (PEP 562): one loader for each of them.

```python
__getattr__, __dir__ = lazy_names(__name__, _HOMES, __all__)
```

``homes`` maps each module to the names it gives the package; a name is imported from its
home the first time it is asked for and kept in the package's namespace. Any other attribute
is tried as a submodule (``hirepipe.models`` after a bare ``import hirepipe``, as when the
package imported everything), else it is an ``AttributeError``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping

__all__ = ["lazy_names"]


def lazy_names(
    package: str, homes: Mapping[str, Iterable[str]], names: Iterable[str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Return the ``__getattr__`` and ``__dir__`` of ``package``, loading ``homes`` lazily."""
    home_of = {name: module for module, given in homes.items() for name in given}
    listed = frozenset(names)

    def get(name: str) -> object:
        home = home_of.get(name)
        if home is not None:
            value = getattr(importlib.import_module(home), name)
        else:
            try:
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        vars(sys.modules[package])[name] = value
        return value

    def listing() -> list[str]:
        return sorted({*vars(sys.modules[package]), *listed})

    return get, listing
