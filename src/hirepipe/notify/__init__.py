"""Candidate communications: notification rules, templates, an outbox, senders and the cadence.

```python
policy = standard_policy()                          # or any Policy(..., notifications=...)
outbox = Outbox()
notifier = Notifier(outbox, policy)                 # rules: policy.notifications
pipeline = Pipeline(policy, clock=clock, hooks=[notifier])
application = pipeline.new_application(candidate, requisition)
notifier.created(application, requisition)          # no event marks a creation
pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
deliver(outbox, SmtpSender("smtp.example.com", from_address="jobs@example.com"), clock.now())
notifier.sweep(applications, requisitions, clock.now())   # daily: cadence and reminders
```

Every notification has an idempotency key, so no transition notifies twice. It is rendered when
it is sent, from facts built from a snapshot taken when it was made (so the hook stays cheap). A
send that fails is retried with backoff and, after the last attempt, kept as failed. Nothing is
dropped. [`offer_document`][hirepipe.notify.offer_document] renders an offer version's
document with the same templates.
[`STANDARD_NOTIFICATIONS`][hirepipe.standard.STANDARD_NOTIFICATIONS] are the standard
policy's rules; the templates are in ``hirepipe/notify/templates`` and any of them can be
overridden ([`Templates`][hirepipe.notify.Templates]).
"""

from hirepipe.notify._cadence import UpdateDue, who_needs_an_update
from hirepipe.notify._documents import OFFER_DOCUMENT, OfferDocument, offer_document
from hirepipe.notify._facts import (
    EstimateProvider,
    FactBuilder,
    OpenRolesProvider,
    Person,
    Scene,
    as_outlook,
    default_estimate,
    no_estimate,
    roles_from_requisitions,
)
from hirepipe.notify._model import (
    CREATED,
    ClaimLost,
    DeliveryError,
    Message,
    Notification,
    NotificationError,
    NotificationStatus,
    OpenRole,
    Outlook,
    TemplateError,
)
from hirepipe.notify._notifier import Notifier
from hirepipe.notify._outbox import Backoff, Claim, Outbox
from hirepipe.notify._recording import SYSTEM_ACTOR, record_sent
from hirepipe.notify._senders import (
    DeliveryReport,
    LoggingSender,
    MemorySender,
    Sender,
    SmtpSender,
    deliver,
    message_id,
)
from hirepipe.notify._templates import Templates
from hirepipe.notify._webhooks import WebhookSender, sign, verify_signature, webhook_secret
from hirepipe.standard._notifications import STANDARD_NOTIFICATIONS

__all__ = [
    "CREATED",
    "OFFER_DOCUMENT",
    "STANDARD_NOTIFICATIONS",
    "SYSTEM_ACTOR",
    "Backoff",
    "Claim",
    "ClaimLost",
    "DeliveryError",
    "DeliveryReport",
    "EstimateProvider",
    "FactBuilder",
    "LoggingSender",
    "MemorySender",
    "Message",
    "Notification",
    "NotificationError",
    "NotificationStatus",
    "Notifier",
    "OfferDocument",
    "OpenRole",
    "OpenRolesProvider",
    "Outbox",
    "Outlook",
    "Person",
    "Scene",
    "Sender",
    "SmtpSender",
    "TemplateError",
    "Templates",
    "UpdateDue",
    "WebhookSender",
    "as_outlook",
    "default_estimate",
    "deliver",
    "message_id",
    "no_estimate",
    "offer_document",
    "record_sent",
    "roles_from_requisitions",
    "sign",
    "verify_signature",
    "webhook_secret",
    "who_needs_an_update",
]
