"""A sent notification's record: the activity that closes the deadline it answers.

```python
outbox = Outbox(on_sent=record_sent(pipeline, applications))
```

A rule that ``records`` an activity (the thank-you records ``thank_you_sent``) has it written
into the application's history once the notification is sent, so the service level it answers
closes. The store's outbox does it in the transaction that marks the notification sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hirepipe.errors import NotificationError
from hirepipe.models import Application
from hirepipe.notify._model import Notification
from hirepipe.pipeline import Pipeline
from hirepipe.policy import SYSTEM_ACTOR, Policy

__all__ = ["SYSTEM_ACTOR", "record_sent", "sent_note"]


def sent_note(policy: Policy, notification: Notification) -> dict[str, Any]:
    """The data of a sent notification's record: a note naming it, where the activity takes one."""
    spec = policy.events.get(str(notification.records))
    if spec is None or "text" not in spec.data_model.model_fields:
        return {}
    return {"text": f"{notification.rule} sent to {notification.role} ({notification.key})"}


def record_sent(
    pipeline: Pipeline,
    applications: Mapping[str, Application] | Callable[[str], Application | None],
) -> Callable[[Notification], None]:
    """Return an ``on_sent`` for an in-memory [`Outbox`][hirepipe.notify.Outbox].

    It fires the notification's ``records`` activity on its application (found by id in
    ``applications``) as the pipeline's ``system_actor``
    ([`SYSTEM_ACTOR`][hirepipe.policy.SYSTEM_ACTOR] unless the pipeline names another); an
    application it cannot find raises NotificationError, which ``deliver`` reports as
    unrecorded.
    """
    find = applications.get if isinstance(applications, Mapping) else applications

    def record(notification: Notification) -> None:
        application = find(notification.application_id)
        if application is None:
            raise NotificationError(f"no application {notification.application_id!r} to record on")
        pipeline.fire(
            application,
            str(notification.records),
            actor=pipeline.system_actor,
            **sent_note(pipeline.policy, notification),
        )

    return record
