"""Requisition-level rules on the store: a slate's fill and fall-through in one transaction.

```python
fired = store.slate_fire(application.id, "decline", actor=candidate.id)
# the decline and the runner-up brought forward, committed together or not at all
```

[`Store.slate_fire`][hirepipe.store.Store.slate_fire] locks the requisition's row, loads its
slate, and lets [`Slate`][hirepipe.slate.Slate] apply its rules with every event a stored fire
in that one transaction (compare-and-set on each application and on the requisition). Two
processes on one requisition take turns; a crash half-way through a fill leaves nothing of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from hirepipe.models import Application, Requisition
from hirepipe.pipeline import Fired, Pipeline

if TYPE_CHECKING:
    from hirepipe.store._store import Store

__all__ = ["StoredPipeline"]


class StoredPipeline(Pipeline):
    """The store's pipeline as a slate sees it: every event it fires is a stored fire.

    Used inside a store transaction ([`Store.slate_fire`][hirepipe.store.Store.slate_fire]); the
    slate's own objects are kept in step with what each stored fire committed, so its rules read
    the state they made.
    """

    def __init__(self, store: Store) -> None:
        own = store.pipeline
        # the same people: the slate's fills fire as the store's system actor
        super().__init__(
            own.policy, clock=own.clock, roles=own.roles, system_actor=own.system_actor
        )
        self._store = store

    def fire(
        self,
        application: Application,
        event: str,
        *,
        actor: str,
        requisition: Requisition | None = None,
        reason: str | None = None,
        expected_version: int | None = None,
        **data: Any,
    ) -> Fired:
        """Fire through the store (its hooks included), compared and set on what the slate read."""
        if requisition is not None and requisition.id != application.requisition_id:
            data = {**data, "requisition_id": requisition.id}  # a transfer: the store reads it
        fired = self._store.fire(
            application.id,
            event,
            actor=actor,
            reason=reason,
            expected_version=application.version if expected_version is None else expected_version,
            **data,
        )
        _adopt(application, fired.application)
        if (
            requisition is not None
            and fired.requisition is not None
            and fired.requisition.id == requisition.id
        ):
            _adopt(requisition, fired.requisition)
        return Fired(fired.record, application, requisition, fired.policy)

    def apply(self, *args: Any, **kwargs: Any) -> Fired:
        """Refused: a stored slate only fires (the store applies and commits in one step)."""
        raise NotImplementedError("a stored slate fires through the store; use fire")


def _adopt(target: BaseModel, source: BaseModel) -> None:
    """Make ``target`` hold ``source``'s validated values: the slate keeps its own objects."""
    target.__dict__.update(source.__dict__)
    target.__pydantic_fields_set__.update(source.__pydantic_fields_set__)
