"""Senders, and ``deliver``, which sends what is due and retries what fails.

A sender is any callable ``(notification, message, now)`` that delivers one rendered
notification or raises; hirepipe ships four: [`MemorySender`][hirepipe.notify.MemorySender]
(tests), [`LoggingSender`][hirepipe.notify.LoggingSender],
[`SmtpSender`][hirepipe.notify.SmtpSender] (``smtplib`` and ``email``) and
[`WebhookSender`][hirepipe.notify.WebhookSender] (Standard Webhooks). A sender raises
DeliveryError with ``permanent=True`` for a failure retrying cannot fix, and with
``retry_after`` when the receiver asked for a pause:

```python
report = deliver(outbox, SmtpSender("smtp.example.com", from_address="jobs@example.com"), now)
assert not report.unrecorded  # else another deliverer took some over: see DeliveryReport
```

Delivery is at least once. Each message carries a stable id derived from the notification's
key (SMTP ``Message-ID``, webhook ``webhook-id``) so a receiver can drop the repeat that a
crash between sending and [`mark_sent`][hirepipe.notify.Outbox.mark_sent] may cause.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from typing import Protocol

from hirepipe._redact import error_summary
from hirepipe.errors import CalendarError
from hirepipe.notify._model import (
    ClaimLost,
    DeliveryError,
    Message,
    Notification,
    NotificationError,
)
from hirepipe.notify._outbox import Claim, Outbox
from hirepipe.notify._templates import Templates

__all__ = [
    "DeliveryReport",
    "LoggingSender",
    "MemorySender",
    "Sender",
    "SmtpSender",
    "deliver",
    "message_id",
]

_log = logging.getLogger("hirepipe.notify")


class Sender(Protocol):
    """Delivers one rendered notification, or raises (any exception is a failed attempt)."""

    def __call__(self, notification: Notification, message: Message, now: datetime, /) -> None:
        """Send ``message``, the rendering of ``notification``, at ``now``."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one [`deliver`][hirepipe.notify.deliver] run did.

    ``sent``, ``retrying`` (a failed attempt, tried again later) and ``failed`` (for good:
    every attempt used, or a permanent failure) hold the notifications as recorded.
    ``unrecorded`` holds those attempted whose outcome this run could not record because its
    claim no longer held (another deliverer took over after the lease ran out, or someone
    marked it meanwhile): whoever holds the notification now records it.
    """

    sent: tuple[Notification, ...] = ()
    retrying: tuple[Notification, ...] = ()
    failed: tuple[Notification, ...] = ()
    unrecorded: tuple[Notification, ...] = ()


@cache
def _default_templates() -> Templates:
    return Templates()


def deliver(
    outbox: Outbox,
    sender: Sender,
    now: datetime,
    *,
    templates: Templates | None = None,
    limit: int | None = None,
) -> DeliveryReport:
    """Render and send every notification due at ``now``; return what happened.

    Each notification is claimed just before its send and its outcome recorded with that
    claim, which is renewed while a send takes long; leases are counted from ``now`` plus
    the time this run has taken. A notification another deliverer holds is left to it. A
    notification that fails to render or to send is marked failed for this attempt and
    retried after the outbox's backoff; after the last attempt, or at once for a permanent
    failure, it stays in the outbox as failed (and is logged as an error). One notification
    whose outcome cannot be recorded never stops the others. Nothing is dropped.
    ``templates`` defaults to hirepipe's own; ``limit`` caps how many are tried in this run.
    Raises CalendarError for a naive ``now``.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise CalendarError(f"naive now {now.isoformat()}: pass an aware datetime")
    templates = templates if templates is not None else _default_templates()
    sent: list[Notification] = []
    retrying: list[Notification] = []
    failed: list[Notification] = []
    unrecorded: list[Notification] = []
    started, start = time.monotonic(), _plain(now)

    def current() -> datetime:
        return start + timedelta(seconds=time.monotonic() - started)

    with outbox.delivering(), _Renewal(outbox, current) as renewal:
        for candidate in outbox.due(now, limit=limit):
            claim = outbox.claim(candidate.key, current())
            if claim is None:
                continue  # another deliverer holds it, or it changed since due() read it
            notification = claim.notification
            renewal.hold(claim)
            problem: Exception | None = None
            try:
                message = templates.render(notification.template, notification.facts)
                sender(notification, message, now)
            except Exception as exc:  # any failure is one failed attempt, never a lost message
                problem = exc
            except BaseException:
                # Interrupted: free the notification for another deliverer now, not after the
                # lease. Should the release itself fail, the lease still runs out.
                with suppress(Exception):
                    outbox.release(renewal.drop())
                raise
            claim = renewal.drop()
            try:
                if problem is None:
                    sent.append(outbox.mark_sent(notification.key, now, claim=claim))
                    continue
                updated = outbox.mark_failed(notification.key, now, problem, claim=claim)
            except NotificationError as exc:
                _log.warning(
                    "notification %s was attempted but its outcome was not recorded: %s",
                    notification.key,
                    exc,
                )
                unrecorded.append(notification)
                continue
            # The error's message (an SMTP reply repeats the address) goes to the notification's
            # last_error, erased with the candidate's data; the log, never erased, has its class.
            if updated.status == "failed":
                _log.error(
                    "notification %s failed for good after %d attempts (%s); its last_error in "
                    "the outbox says why: fix the cause and requeue it",
                    updated.key,
                    updated.attempts,
                    error_summary(problem),
                )
                failed.append(updated)
            else:
                _log.warning(
                    "notification %s failed (attempt %d), retrying at %s (%s); its last_error "
                    "in the outbox says why",
                    updated.key,
                    updated.attempts,
                    updated.next_attempt_at.isoformat(),
                    error_summary(problem),
                )
                retrying.append(updated)
    return DeliveryReport(tuple(sent), tuple(retrying), tuple(failed), tuple(unrecorded))


def _plain(moment: datetime) -> datetime:
    """``moment`` as a standard-library datetime in UTC, to the microsecond.

    A claim per notification does lease arithmetic per notification; pendulum's costs about
    25 us a step, the standard library's well under one.
    """
    offset = moment.utcoffset()
    assert offset is not None
    naive = datetime(
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
    )
    return (naive - offset).replace(tzinfo=UTC)


class _Renewal:
    """Renews the claim being sent every third of the lease, from a thread of its own.

    A send that takes longer than the lease (a receiver hanging to the timeout) keeps its
    claim, so no other deliverer sends the notification meanwhile; a deliverer that dies
    stops renewing and its claim runs out. The thread starts with the first claim held.
    """

    def __init__(self, outbox: Outbox, current: Callable[[], datetime]) -> None:
        self._outbox = outbox
        self._current = current
        # never spin: a lease too short to renew in 50 ms cannot be kept by renewing anyway
        self._interval = max(outbox.lease.total_seconds() / 3, 0.05)
        self._lock = threading.Lock()  # held while renewing: drop() waits for a renewal
        self._claim: Claim | None = None
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Renewal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()

    def hold(self, claim: Claim) -> None:
        """Keep ``claim`` renewed until ``drop``."""
        with self._lock:
            self._claim = claim
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="hirepipe-claim-renewal", daemon=True
            )
            self._thread.start()

    def drop(self) -> Claim:
        """Stop renewing; return the claim as last renewed."""
        with self._lock:
            claim, self._claim = self._claim, None
        assert claim is not None
        return claim

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            with self._lock:
                if self._claim is None:
                    continue
                try:
                    self._claim = self._outbox.renew(self._claim, self._current())
                except ClaimLost:
                    pass  # the outcome is refused when recorded, and reported
                except Exception:  # a thread that died here would stop renewing unseen
                    _log.exception("renewing the claim on %s failed", self._claim.key)


def message_id(notification: Notification) -> str:
    """A stable id for the notification's messages: the first 32 hex digits of its key's hash."""
    return hashlib.sha256(notification.key.encode()).hexdigest()[:32]


# -- in memory and logging -------------------------------------------------------------------


class MemorySender:
    """Keeps what it is given (``sent``: notification and message pairs), for tests.

    ``fail`` decides, per notification, to raise a DeliveryError instead (scripted failures).
    """

    def __init__(self, *, fail: Callable[[Notification], bool] | None = None) -> None:
        self.sent: list[tuple[Notification, Message]] = []
        self.fail = fail

    def __call__(self, notification: Notification, message: Message, now: datetime, /) -> None:
        """Keep the message, or fail as scripted."""
        if self.fail is not None and self.fail(notification):
            raise DeliveryError(notification.key, "scripted failure")
        self.sent.append((notification, message))

    @property
    def messages(self) -> list[Message]:
        """The messages kept, in order."""
        return [message for _, message in self.sent]

    def __repr__(self) -> str:
        return f"MemorySender({len(self.sent)} sent)"


class LoggingSender:
    """Logs each message (recipient, subject and text) instead of sending it.

    For development and tests: the log then holds the candidates' personal data, which
    erasure cannot reach.
    """

    def __init__(self, logger: logging.Logger | None = None, *, level: int = logging.INFO) -> None:
        self.logger: logging.Logger = logger if logger is not None else _log
        self.level = level

    def __call__(self, notification: Notification, message: Message, now: datetime, /) -> None:
        """Log the message."""
        self.logger.log(
            self.level,
            "to %s <%s> [%s]: %s\n%s",
            notification.to,
            notification.address or "no address",
            notification.rule,
            message.subject,
            message.text,
        )


# -- SMTP ------------------------------------------------------------------------------------


class SmtpSender:
    """Sends e-mail through an SMTP server with the standard library.

    ``from_address`` is the sender; ``starttls`` upgrades a plain connection, ``use_ssl``
    connects with TLS from the start; ``username`` and ``password`` log in. One connection per
    message. A notification without an address, or any SMTP or network error, raises
    DeliveryError.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 25,
        *,
        from_address: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        use_ssl: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 10.0,
        local_hostname: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.from_address = from_address
        self.username = username
        self._password = password
        self.starttls = starttls
        self.use_ssl = use_ssl
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._domain = from_address.rpartition("@")[2] or "hirepipe"

    def build(self, notification: Notification, message: Message, now: datetime) -> EmailMessage:
        """Return the e-mail for ``message``: plain text with an HTML alternative."""
        if notification.address is None:
            raise DeliveryError(
                notification.key,
                f"no e-mail address for {notification.to!r}; give the Notifier a directory",
            )
        email = EmailMessage()
        try:
            email["To"] = Address(addr_spec=notification.address)
            email["From"] = self.from_address
            email["Subject"] = message.subject
        except (ValueError, IndexError, MessageError) as exc:  # the email package's parsers
            raise DeliveryError(notification.key, f"bad address or subject: {exc}") from exc
        email["Date"] = format_datetime(now)
        email["Message-ID"] = f"<{message_id(notification)}@{self._domain}>"
        email["X-Hirepipe-Rule"] = notification.rule
        email.set_content(message.text)
        email.add_alternative(message.html, subtype="html")
        return email

    def __call__(self, notification: Notification, message: Message, now: datetime, /) -> None:
        """Send one e-mail; raise DeliveryError if the server or the network refuses it."""
        email = self.build(notification, message, now)
        try:
            if self.use_ssl:
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    local_hostname=self.local_hostname,
                    context=self.ssl_context,
                )
            else:
                connection = smtplib.SMTP(
                    self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname
                )
            with connection as smtp:
                if self.starttls and not self.use_ssl:
                    smtp.starttls(context=self.ssl_context)
                if self.username is not None:
                    smtp.login(self.username, self._password or "")
                smtp.send_message(email)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                notification.key,
                f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}",
                status=getattr(exc, "smtp_code", None),
                permanent=_refused_for_good(exc),
            ) from exc

    def __repr__(self) -> str:
        return f"SmtpSender({self.host!r}, {self.port}, from_address={self.from_address!r})"


def _refused_for_good(exc: Exception) -> bool:
    """Whether an SMTP server refused this message for good: a 5xx to it or its recipients.

    A 5xx to the connection, the greeting or the login is the server's or the sender's
    set-up, which someone can fix: those are retried like any other failure.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    setup = (smtplib.SMTPAuthenticationError, smtplib.SMTPConnectError, smtplib.SMTPHeloError)
    return (
        isinstance(exc, smtplib.SMTPResponseException)
        and not isinstance(exc, setup)
        and 500 <= exc.smtp_code < 600
    )
