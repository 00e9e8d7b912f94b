"""Webhooks signed as Standard Webhooks (https://www.standardwebhooks.com) prescribes.

[`WebhookSender`][hirepipe.notify.WebhookSender] POSTs each notification as JSON with three
headers: ``webhook-id`` (the message id, the same on every retry), ``webhook-timestamp`` (Unix
seconds) and ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of ``id.timestamp.body``,
one per secret, space-separated, so a receiver keeps working while secrets rotate. Secrets are
``whsec_`` and base64 ([`webhook_secret`][hirepipe.notify.webhook_secret] makes one), or the
key's bytes. Any Standard Webhooks library verifies the requests;
[`verify_signature`][hirepipe.notify.verify_signature] does it without one:

```python
# the receiver, given the raw body and the request's headers
if not verify_signature(secret, request.headers, request.body, now):
    return 401
```
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets as _secrets
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from hirepipe._version import __version__
from hirepipe.errors import CalendarError
from hirepipe.notify._model import DeliveryError, Message, Notification, NotificationError
from hirepipe.notify._senders import message_id

__all__ = [
    "WebhookSender",
    "sign",
    "verify_signature",
    "webhook_secret",
]

Secret = str | bytes
"""A webhook secret: ``whsec_`` and base64, as Standard Webhooks writes them, or the key's bytes."""

_PREFIX = "whsec_"
_ID, _TIMESTAMP, _SIGNATURE = "webhook-id", "webhook-timestamp", "webhook-signature"
# Unix seconds as ASCII digits: a 400-digit number is refused before it becomes a float.
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
_DIGITS = re.compile(r"[0-9]+")
_LONGEST_WAIT = timedelta(days=366)  # longer than any backoff's cap: the cap applies


def webhook_secret() -> str:
    """Return a new random secret in the Standard Webhooks form: ``whsec_`` and 32 bytes."""
    return _PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode()


def sign(secret: Secret | Sequence[Secret], webhook_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` header for a request: ``v1,<base64>`` per secret.

    Several secrets (during a rotation) give several signatures, space-separated. Raises
    NotificationError for a secret in neither form.
    """
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digests = [_hmac(key, signed) for key in _keys(secret)]
    return " ".join(f"v1,{base64.b64encode(digest).decode()}" for digest in digests)


def verify_signature(
    secret: Secret | Sequence[Secret],
    headers: Mapping[str, str],
    body: bytes | str,
    now: datetime,
    *,
    tolerance: timedelta = timedelta(minutes=5),
) -> bool:
    """Whether a webhook request is authentic and fresh; False for anything wrong with it.

    For receivers of [`WebhookSender`][hirepipe.notify.WebhookSender] (or of any Standard
    Webhooks sender). ``headers`` are the request's (names in any case), ``body`` its raw body.
    ``secret`` may be several (accept the old and the new one while they rotate). A request
    missing a header, with a timestamp that is not Unix seconds or is further than ``tolerance``
    from ``now`` (so a captured request cannot be replayed later), or with no signature matching
    a secret is refused: the answer is False, never an exception. Raises NotificationError only
    for a ``secret`` in neither form (the receiver's configuration), CalendarError for a naive
    ``now``.
    """
    keys = _keys(secret)
    if now.tzinfo is None or now.utcoffset() is None:
        raise CalendarError(f"naive now {now.isoformat()}: pass an aware datetime")
    found = _lowered(headers)
    webhook_id, timestamp, signatures = found.get(_ID), found.get(_TIMESTAMP), found.get(_SIGNATURE)
    if not webhook_id or not timestamp or not signatures:
        return False
    if _UNIX_SECONDS.fullmatch(timestamp) is None:
        return False
    if abs(now.timestamp() - int(timestamp)) > tolerance.total_seconds():
        return False
    try:
        raw = body.encode() if isinstance(body, str) else body
        signed = f"{webhook_id}.{timestamp}.".encode() + raw
    except UnicodeError:  # a lone surrogate cannot have been sent
        return False
    expected = [_hmac(key, signed) for key in keys]
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version != "v1":
            continue  # another scheme (v1a: asymmetric), or noise
        try:
            given = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):  # not base64, or not ASCII
            continue
        if any(hmac.compare_digest(given, digest) for digest in expected):
            return True
    return False


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would turn the POST into a GET and drop the body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebhookSender:
    """POSTs each notification as JSON to ``url``, signed as Standard Webhooks prescribes.

    ``secret`` is ``whsec_`` and base64, or the key's bytes; give two (old and new) while
    rotating: every request then carries a signature for each. Headers: ``webhook-id``
    ([`message_id`][hirepipe.notify.message_id], the same on every retry; also sent as
    ``Idempotency-Key``), ``webhook-timestamp`` and ``webhook-signature`` (check them with
    [`verify_signature`][hirepipe.notify.verify_signature] or any Standard Webhooks library).
    The JSON holds the notification's ids, recipient, rendered subject, text and HTML, and its
    facts.

    An answer other than 2xx, a redirect, or a network error raises DeliveryError: one of
    [`permanent_statuses`][hirepipe.notify.WebhookSender.permanent_statuses] as permanent (not
    retried), any other with the receiver's ``Retry-After`` (seconds or an HTTP date), if it
    sent one. Raises NotificationError for a URL that is not http(s) or a secret in neither
    form.
    """

    permanent_statuses: ClassVar[frozenset[int]] = frozenset({400, 404, 410, 422})
    """Answers that retrying the same request cannot change: the notification fails at once."""

    def __init__(
        self,
        url: str,
        secret: Secret | Sequence[Secret],
        *,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise NotificationError(f"webhook url must be http(s), not {url!r}")
        self.url = url
        self._keys = _keys(secret)
        self.timeout = timeout
        self.headers: dict[str, str] = dict(headers or {})
        self._opener = urllib.request.build_opener(_NoRedirects)

    @staticmethod
    def body(notification: Notification, message: Message) -> bytes:
        """Return the JSON body sent for ``notification``."""
        payload = {
            "id": message_id(notification),
            "key": notification.key,
            "rule": notification.rule,
            "template": notification.template,
            "trigger": notification.trigger,
            "application_id": notification.application_id,
            "requisition_id": notification.requisition_id,
            "to": {
                "role": notification.role,
                "id": notification.to,
                "address": notification.address,
            },
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "created_at": notification.created_at.isoformat(),
            "due_at": notification.due_at.isoformat(),
            "attempt": notification.attempts + 1,
            "facts": notification.facts,
        }
        return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()

    def __call__(self, notification: Notification, message: Message, now: datetime, /) -> None:
        """POST one notification; raise DeliveryError unless the receiver answers 2xx."""
        body = self.body(notification, message)
        webhook_id = message_id(notification)
        timestamp = int(now.timestamp())
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                **self.headers,
                "Content-Type": "application/json",
                "User-Agent": f"hirepipe/{__version__}",
                "Idempotency-Key": webhook_id,
                _ID: webhook_id,
                _TIMESTAMP: str(timestamp),
                _SIGNATURE: sign(self._keys, webhook_id, timestamp, body),
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            asked = _retry_after(exc.headers.get("Retry-After"), now) if exc.headers else None
            exc.close()
            raise DeliveryError(
                notification.key,
                f"{self.url} answered HTTP {exc.code}",
                status=exc.code,
                permanent=exc.code in self.permanent_statuses,
                retry_after=asked,
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(notification.key, f"{self.url}: {exc}") from exc
        if not 200 <= status < 300:
            raise DeliveryError(notification.key, f"{self.url} answered {status}", status=status)

    def __repr__(self) -> str:
        return f"WebhookSender({self.url!r})"


def _retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Read an HTTP ``Retry-After`` header at ``now``: delay-seconds or an HTTP date.

    Returns None for a missing or unreadable value, and no less than zero for a date passed.
    """
    if value is None:
        return None
    value = value.strip()
    if _DIGITS.fullmatch(value) is not None:
        # read only as many digits as a wait can use: int() refuses 4,300 and more
        return timedelta(seconds=int(value)) if len(value) <= 9 else _LONGEST_WAIT
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": the date is in UTC, its source's zone unknown
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


# -- secrets -------------------------------------------------------------------------------------


def _keys(secret: Secret | Sequence[Secret]) -> tuple[bytes, ...]:
    given: Iterable[Secret] = [secret] if isinstance(secret, str | bytes) else secret
    keys = tuple(_key(one) for one in given)
    if not keys:
        raise NotificationError("a webhook needs a secret to sign its requests: give one or two")
    return keys


def _key(secret: Secret) -> bytes:
    if not secret:
        raise NotificationError("a webhook needs a secret to sign its requests: it is empty")
    if isinstance(secret, bytes):
        key = secret
    elif not secret.startswith(_PREFIX):
        raise NotificationError(
            "a webhook secret starts with 'whsec_' and continues in base64, as Standard "
            "Webhooks writes them (webhook_secret() makes one); to keep an older secret, "
            "pass its bytes: secret.encode()"
        )
    else:
        encoded = secret.removeprefix(_PREFIX)
        try:
            # Standard Webhooks libraries accept the base64 with or without its padding.
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise NotificationError(
                "the webhook secret is not base64 after 'whsec_'; copy it whole, or make a "
                "new one with webhook_secret()"
            ) from None
    if not key:
        raise NotificationError("a webhook needs a secret to sign its requests: it is empty")
    return key


def _hmac(key: bytes, signed: bytes) -> bytes:
    return hmac.new(key, signed, hashlib.sha256).digest()


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers a receiver got, names lower-cased; anything but text is left out."""
    try:
        items = list(headers.items())
    except (AttributeError, TypeError):
        return {}
    return {
        name.lower(): value
        for name, value in items
        if isinstance(name, str) and isinstance(value, str)
    }
