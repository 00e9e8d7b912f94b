"""The notify layer's data: notifications, rendered messages, estimates and open roles.

Everything here is plain, frozen data. A [`Notification`][hirepipe.notify.Notification] holds
the JSON-ready facts its template needs, taken from the application as it was when the event
applied (built on first use), so it renders the same at any later time and can be stored
anywhere; the outbox replaces it whole when its delivery status changes.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, Final

from pydantic import PlainSerializer, TypeAdapter

from hirepipe._types import withheld_repr
from hirepipe.errors import ClaimLost, DeliveryError, NotificationError, TemplateError

__all__ = [
    "CREATED",
    "ClaimLost",
    "DeliveryError",
    "Message",
    "Notification",
    "NotificationError",
    "NotificationStatus",
    "OpenRole",
    "Outlook",
    "TemplateError",
    "notification_key",
    "occasion_prefix",
]

CREATED: Final = "created"
"""The trigger of rules that fire when an application is created (``NotificationRule.deadline``).

A new application is created in the initial stage without an event, so no hook sees it: call
[`hirepipe.notify.Notifier.created`][hirepipe.notify.Notifier.created] after
``Pipeline.new_application`` (the sweep also catches applications that nothing happened to yet).
"""

_NO_FACTS: Mapping[str, Any] = MappingProxyType({})


def _plain(facts: Mapping[str, Any]) -> dict[str, Any]:
    return dict(facts)


Facts = Annotated[Mapping[str, Any], PlainSerializer(_plain, return_type=dict[str, Any])]
"""A notification's facts: any read-only mapping (built on first use), serialised as a dict.

So Pydantic and FastAPI serialise a notification as they are (a ``Notification`` field of a
response model), not only ``to_json``.
"""


def notification_key(application_id: str, occasion: str | int, rule: str, person: str) -> str:
    """Return the idempotency key ``application/occasion/rule/person``, each part escaped.

    ``occasion`` is the record version, ``0`` for the creation, or a deadline's kind and
    start. ``%`` and ``/`` are written ``%25`` and ``%2F``, so ids holding ``/`` never run
    together into another notification's key; other ids keep the keys they always had.
    """
    key = f"{application_id}/{occasion}/{rule}/{person}"
    if "%" not in key and key.count("/") == 3:
        return key  # no part holds "%" or "/": escaping would change nothing
    return "/".join(_escape(str(part)) for part in (application_id, occasion, rule, person))


def occasion_prefix(application_id: str, occasion: str | int) -> str:
    """Return how every key of one occasion of an application begins: ``application/occasion/``.

    The keys of an event's notifications (``occasion`` its record's version) all start so
    (``notification_key``), and no other key does.
    """
    return f"{_escape(application_id)}/{_escape(str(occasion))}/"


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace("/", "%2F")


# -- data ----------------------------------------------------------------------------------------


class NotificationStatus(StrEnum):
    """Where a notification stands: waiting to be sent, sent, or failed for good."""

    pending = "pending"
    sent = "sent"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered notification: a one-line subject, plain text and HTML."""

    subject: str
    text: str
    html: str

    def __repr__(self) -> str:
        # what it says is the candidate's: a repr ends up in logs and error trackers
        return withheld_repr(self, _MESSAGE_PERSONAL)


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to one person, with its delivery state. Read-only: the outbox changes it.

    ``key`` is the idempotency key (application, record version or deadline, rule, person): the
    same transition never makes two notifications with one key. ``trigger`` is the event,
    deadline kind or [`CREATED`][hirepipe.notify.CREATED] that made it; ``role`` the recipient's
    role and ``to`` their id (the candidate's id for the candidate); ``address`` their e-mail
    address if known. ``facts`` is what the template renders, as JSON-ready data (built on first
    use from a snapshot of the application at the event). ``next_attempt_at`` is when a sender
    may try it next (``due_at`` until a send fails). ``records`` is the activity its rule writes
    into the application's history once it is sent (None: nothing).
    """

    key: str
    rule: str
    template: str
    application_id: str
    requisition_id: str
    trigger: str
    role: str
    to: str
    address: str | None
    created_at: _dt.datetime
    due_at: _dt.datetime
    next_attempt_at: _dt.datetime
    facts: Facts = field(default_factory=lambda: _NO_FACTS)
    status: NotificationStatus = NotificationStatus.pending
    attempts: int = 0
    last_error: str | None = None
    sent_at: _dt.datetime | None = None
    records: str | None = None

    def __repr__(self) -> str:
        # its key, rule, template, recipient id, times and status; not what erasure removes
        return withheld_repr(self, _NOTIFICATION_PERSONAL)

    def to_json(self) -> str:
        """Return the notification as JSON, for a durable outbox (its facts built now)."""
        return _NOTIFICATION_JSON.dump_json(self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Notification:
        """Read a notification written by [`to_json`][hirepipe.notify.Notification.to_json]."""
        return _NOTIFICATION_JSON.validate_json(text)


_NOTIFICATION_JSON: TypeAdapter[Notification] = TypeAdapter(Notification)
# what erasure removes from a notification (``after_erasure``), and a message's every part
_NOTIFICATION_PERSONAL = frozenset({"facts", "address", "last_error"})
_MESSAGE_PERSONAL = frozenset({"subject", "text", "html"})


@dataclass(frozen=True, slots=True)
class Outlook:
    """What an estimate provider tells the candidate: the likely and latest decision dates.

    ``pending`` is false when no decision is pending (on hold, in the talent pool, ended);
    ``note`` says why.
    """

    likely: _dt.date | None
    latest: _dt.date | None = None
    pending: bool = True
    note: str = ""


@dataclass(frozen=True, slots=True)
class OpenRole:
    """Another open role to name in a rejection: its title and, optionally, where to apply."""

    title: str
    url: str | None = None
