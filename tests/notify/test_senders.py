"""Tests of hirepipe.notify's SMTP and webhook senders against real servers on 127.0.0.1.

Webhooks are checked against the Standard Webhooks reference package (``standardwebhooks``):
a receiver on 127.0.0.1 verifies every request with it, and hirepipe's signatures equal its own.
"""

from __future__ import annotations

import base64
import datetime as _dt
import email
import email.policy
import json
import smtplib
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import standardwebhooks
import standardwebhooks.webhooks
from aiosmtpd.controller import Controller
from hypothesis import given
from hypothesis import strategies as st

from hirepipe.notify import (
    Backoff,
    DeliveryError,
    Message,
    NotificationError,
    NotificationStatus,
    Outbox,
    SmtpSender,
    WebhookSender,
    deliver,
    message_id,
    sign,
    verify_signature,
    webhook_secret,
)
from hirepipe.notify._senders import _refused_for_good
from tests.notify.test_outbox import NOW, note
from tests.notify.world import World

SECRET = "whsec_" + base64.b64encode(b"a key of 24 random bytes").decode()
MESSAGE = Message(subject="Hello", text="Plain text\n", html="<p>HTML</p>\n")


def http_date(instant: _dt.datetime) -> str:
    """``instant`` as an HTTP date (``Retry-After``, ``Date``)."""
    return format_datetime(_dt.datetime.fromtimestamp(instant.timestamp(), _dt.UTC), usegmt=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- a real SMTP server -------------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler that keeps every envelope, or refuses with ``refuse``."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.refuse: str | None = None
        self.refuse_recipient: str | None = None

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse_recipient is not None:
            return self.refuse_recipient
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse is not None:
            return self.refuse
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(e.content, policy=email.policy.default)  # type: ignore[misc]
            for e in self.envelopes
        ]


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def smtp_sender(port: int) -> SmtpSender:
    return SmtpSender(
        "127.0.0.1",
        port,
        from_address="jobs@example.com",
        timeout=5,
        local_hostname="localhost",
    )


class TestSmtpSender:
    def test_sends_text_with_an_html_alternative(self, smtp):
        """The e-mail reaches the server: headers, plain text and HTML parts."""
        mailbox, port = smtp
        outbox = Outbox()
        outbox.add(note(to="ada"))
        report = deliver(outbox, smtp_sender(port), NOW)
        assert 1 == len(report.sent)
        (envelope,) = mailbox.envelopes
        assert ("jobs@example.com", ["ada@example.com"]) == (
            envelope.mail_from,
            envelope.rcpt_tos,
        )
        (received,) = mailbox.messages()
        assert (
            "Staying in touch after Backend Engineer",
            "ada@example.com",
            "jobs@example.com",
            f"<{message_id(note())}@example.com>",
            "Mon, 06 Jan 2025 09:00:00 +0000",
        ) == (
            received["Subject"],
            received["To"],
            received["From"],
            received["Message-ID"],
            received["Date"],
        )
        assert received.get_body(("plain",)).get_content().startswith("Dear Ada,")
        assert "<p>Dear Ada,</p>" in received.get_body(("html",)).get_content()

    def test_the_offer_end_to_end(self, smtp):
        """An offer fired through the pipeline arrives by e-mail with its terms."""
        mailbox, port = smtp
        world = World()
        world.application("offer")
        deliver(world.outbox, smtp_sender(port), world.clock.now())
        subjects = {m["Subject"]: m for m in mailbox.messages()}
        offer = subjects["Our offer for Backend Engineer"]
        assert "Salary: $135,000" in offer.get_body(("plain",)).get_content()
        assert "candidate1@example.com" == offer["To"]

    def test_a_temporary_refusal_is_retried(self, smtp):
        """A server that refuses the message for now (4xx) makes a failed attempt, retried."""
        mailbox, port = smtp
        mailbox.refuse = "451 Requested action aborted: try again later"
        outbox = Outbox()
        outbox.add(note())
        (retrying,) = deliver(outbox, smtp_sender(port), NOW).retrying
        assert "451" in (retrying.last_error or "")
        mailbox.refuse = None
        assert 1 == len(deliver(outbox, smtp_sender(port), retrying.next_attempt_at).sent)
        assert NotificationStatus.sent == outbox.get(note().key).status

    @pytest.mark.parametrize(
        ("refusal", "stage"),
        [
            ("554 Transaction failed", "data"),
            ("550 Mailbox unavailable", "data"),
            ("550 No such user here", "recipient"),
        ],
        ids=["data-554", "data-550", "recipient-550"],
    )
    def test_a_permanent_refusal_fails_at_once(self, smtp, refusal, stage):
        """An SMTP 5xx refusing the message or its recipient is not retried, and says why."""
        mailbox, port = smtp
        if stage == "data":
            mailbox.refuse = refusal
        else:
            mailbox.refuse_recipient = refusal
        outbox = Outbox()
        outbox.add(note())
        (failed,) = deliver(outbox, smtp_sender(port), NOW).failed
        assert (NotificationStatus.failed, 1) == (failed.status, failed.attempts)
        assert refusal.split()[0] in (failed.last_error or "")
        assert "(permanent: not retried)" in (failed.last_error or "")

    def test_logs_in_with_credentials(self):
        """With a username the sender logs in before sending."""
        from aiosmtpd.smtp import AuthResult

        def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
            return AuthResult(success=(auth_data.login, auth_data.password) == (b"jobs", b"right"))

        mailbox, port = Mailbox(), free_port()
        controller = Controller(
            mailbox,
            hostname="127.0.0.1",
            port=port,
            authenticator=authenticator,
            auth_require_tls=False,
        )
        controller.start()
        try:
            sender = SmtpSender(
                "127.0.0.1",
                port,
                from_address="jobs@example.com",
                username="jobs",
                password="right",
                timeout=5,
                local_hostname="localhost",
            )
            outbox = Outbox()
            outbox.add(note())
            report = deliver(outbox, sender, NOW)
        finally:
            controller.stop()
        assert (1, 1) == (len(report.sent), len(mailbox.envelopes))

    @pytest.mark.parametrize(
        ("error", "permanent"),
        [
            (smtplib.SMTPDataError(554, b"Transaction failed"), True),
            (smtplib.SMTPSenderRefused(553, b"Not allowed", "jobs@example.com"), True),
            (smtplib.SMTPRecipientsRefused({"a@x": (550, b"no"), "b@x": (551, b"no")}), True),
            (smtplib.SMTPRecipientsRefused({"a@x": (550, b"no"), "b@x": (450, b"busy")}), False),
            (smtplib.SMTPDataError(451, b"Try again later"), False),
            (smtplib.SMTPAuthenticationError(535, b"Bad credentials"), False),
            (smtplib.SMTPConnectError(554, b"No service"), False),
            (smtplib.SMTPHeloError(501, b"Bad HELO"), False),
            (smtplib.SMTPServerDisconnected("gone"), False),
            (ConnectionRefusedError(111, "refused"), False),
        ],
        ids=[
            "data-554",
            "sender-553",
            "every-recipient-5xx",
            "one-recipient-4xx",
            "data-451",
            "login-535",
            "connect-554",
            "helo-501",
            "disconnected",
            "refused",
        ],
    )
    def test_only_a_5xx_to_the_message_is_permanent(self, error, permanent):
        """A 5xx refusing the message or all its recipients is permanent; set-up errors are not.

        A refused login or connection is the sender's or the server's set-up, which someone
        can fix: it is retried like a network error.
        """
        assert permanent == _refused_for_good(error)

    def test_no_server_is_a_delivery_error(self):
        """Nothing listening on the port is a DeliveryError."""
        with pytest.raises(DeliveryError, match=r"SMTP 127\.0\.0\.1"):
            smtp_sender(free_port())(note(), MESSAGE, NOW)

    def test_a_notification_without_address(self):
        """A person without a known address cannot be e-mailed, and it says how to fix it."""
        with pytest.raises(DeliveryError, match="no e-mail address for 'maria'; give the"):
            smtp_sender(1)(note(to="maria", address=None), MESSAGE, NOW)

    def test_a_bad_address(self):
        """An address the email package cannot parse is a DeliveryError."""
        with pytest.raises(DeliveryError, match="bad address"):
            smtp_sender(1).build(note(address="a@b@c"), MESSAGE, NOW)

    def test_repr(self):
        """The repr shows where mail goes, not the password."""
        sender = SmtpSender("mail", 587, from_address="a@b.c", username="u", password="p")
        assert "SmtpSender('mail', 587, from_address='a@b.c')" == repr(sender)


# -- a real HTTP server ---------------------------------------------------------------------------


class Receiver(BaseHTTPRequestHandler):
    """Keeps every POST (header names lower-cased); answers ``status`` and ``answer_headers``.

    With ``verifier`` set, answers 401 to a request it refuses (a receiver checking signatures).
    """

    server: WebhookServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.received.append((headers, body))
        status = self.server.status
        if self.server.verifier is not None:
            verdict = self.server.verifier(headers, body)
            self.server.verdicts.append(verdict)
            status = status if verdict else 401
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        for name, value in self.server.answer_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


class WebhookServer(ThreadingHTTPServer):
    received: list[tuple[dict[str, str], bytes]]
    status: int
    answer_headers: dict[str, str]
    verifier: Callable[[dict[str, str], bytes], bool] | None
    verdicts: list[bool]


@pytest.fixture
def webhook(monkeypatch) -> Iterator[tuple[WebhookServer, str]]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    server = WebhookServer(("127.0.0.1", 0), Receiver)
    server.received, server.status, server.answer_headers = [], 200, {}
    server.verifier, server.verdicts = None, []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class FrozenDatetime(_dt.datetime):
    """datetime whose now() is NOW: the reference verifier reads the clock with datetime.now."""

    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> FrozenDatetime:
        return cls.fromtimestamp(NOW.timestamp(), tz)


@pytest.fixture
def reference(monkeypatch) -> type[standardwebhooks.Webhook]:
    """The Standard Webhooks reference package, its clock at NOW."""
    monkeypatch.setattr(standardwebhooks.webhooks, "datetime", FrozenDatetime)
    return standardwebhooks.Webhook


def references_verdict(secret: str) -> Callable[[dict[str, str], bytes], bool]:
    """A receiver's check: the reference package verifies the request with ``secret``."""

    def verify(headers: dict[str, str], body: bytes) -> bool:
        try:
            standardwebhooks.Webhook(secret).verify(body, headers)
        except standardwebhooks.WebhookVerificationError:
            return False
        return True

    return verify


def signed(*, signing: str = SECRET, **changes: Any) -> dict[str, Any]:
    """A request signed with ``signing``, valid for verify_signature at NOW, then ``changes``."""
    body = WebhookSender.body(note(), MESSAGE)
    timestamp = int(NOW.timestamp())
    request: dict[str, Any] = {
        "secret": SECRET,
        "headers": {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(signing, "msg_1", timestamp, body),
        },
        "body": body,
        "now": NOW,
    }
    headers = {**request["headers"], **changes.pop("headers", {})}
    request.update(changes, headers={k: v for k, v in headers.items() if v is not None})
    return request


class TestWebhookSender:
    def test_posts_json_signed_as_standard_webhooks(self, webhook, reference):
        """The receiver gets the rendered message as JSON with the three Standard Webhooks headers.

        The signature is the reference package's own for the same id, timestamp and body.
        """
        server, url = webhook
        outbox = Outbox()
        outbox.add(note(to="ada"))
        assert 1 == len(deliver(outbox, WebhookSender(url, SECRET), NOW).sent)
        ((headers, body),) = server.received
        payload = json.loads(body)
        assert (
            note().key,
            "Staying in touch after Backend Engineer",
            {"role": "candidate", "id": "ada", "address": "ada@example.com"},
            1,
        ) == (payload["key"], payload["subject"], payload["to"], payload["attempt"])
        assert payload["text"].startswith("Dear Ada,")
        expected = reference(SECRET).sign(message_id(note()), NOW, body.decode())
        assert (
            message_id(note()),
            str(int(NOW.timestamp())),
            expected,
            message_id(note()),
            "application/json",
        ) == (
            headers["webhook-id"],
            headers["webhook-timestamp"],
            headers["webhook-signature"],
            headers["idempotency-key"],
            headers["content-type"],
        )
        assert not {"x-hirepipe-signature", "x-hirepipe-timestamp"} & set(headers)
        assert verify_signature(SECRET, headers, body, NOW.add(minutes=4))

    def test_the_reference_package_verifies_what_is_sent(self, webhook, reference):
        """A receiver verifying with `standardwebhooks` accepts hirepipe's requests."""
        server, url = webhook
        server.verifier = references_verdict(SECRET)
        outbox = Outbox()
        for number in range(3):
            outbox.add(note(f"a/{number}"))
        report = deliver(outbox, WebhookSender(url, SECRET), NOW)
        assert (3, [True] * 3) == (len(report.sent), server.verdicts)

    def test_the_reference_package_refuses_another_secret(self, webhook, reference):
        """The same receiver refuses a request signed with another key (401, retried)."""
        server, url = webhook
        server.verifier = references_verdict(webhook_secret())
        outbox = Outbox()
        outbox.add(note())
        (retrying,) = deliver(outbox, WebhookSender(url, SECRET), NOW).retrying
        assert ([False], True) == (
            server.verdicts,
            "answered HTTP 401" in (retrying.last_error or ""),
        )

    @pytest.mark.parametrize("receiver_key", ["old", "new"], ids=["old-key", "new-key"])
    def test_rotating_secrets_signs_with_both_keys(self, webhook, reference, receiver_key):
        """During a rotation every request carries two signatures; either key verifies it."""
        server, url = webhook
        keys = {"old": SECRET, "new": webhook_secret()}
        server.verifier = references_verdict(keys[receiver_key])
        outbox = Outbox()
        outbox.add(note())
        sender = WebhookSender(url, [keys["old"], keys["new"]])
        assert 1 == len(deliver(outbox, sender, NOW).sent)
        ((headers, body),) = server.received
        assert (2, [True]) == (len(headers["webhook-signature"].split(" ")), server.verdicts)
        assert verify_signature(keys[receiver_key], headers, body, NOW)

    @pytest.mark.parametrize("status", [400, 404, 410, 422], ids=str)
    def test_a_permanent_refusal_fails_at_once(self, webhook, status):
        """A status that retrying cannot change fails the notification for good, with why."""
        server, url = webhook
        server.status = status
        outbox = Outbox()
        outbox.add(note())
        (failed,) = deliver(outbox, WebhookSender(url, SECRET), NOW).failed
        assert (1, True) == (
            failed.attempts,
            f"answered HTTP {status} (permanent: not retried)" in (failed.last_error or ""),
        )

    @pytest.mark.parametrize("status", [401, 429, 500, 503], ids=str)
    def test_a_temporary_refusal_is_retried(self, webhook, status):
        """Other error statuses are failed attempts, retried after the backoff."""
        server, url = webhook
        server.status = status
        outbox = Outbox()
        outbox.add(note())
        (retrying,) = deliver(outbox, WebhookSender(url, SECRET), NOW).retrying
        assert f"answered HTTP {status}" in (retrying.last_error or "")

    @pytest.mark.parametrize(
        ("retry_after", "expected"),
        [
            ("120", timedelta(minutes=2)),
            (http_date(NOW.add(hours=3)), timedelta(hours=3)),
            ("soon", timedelta(minutes=1)),
            (http_date(NOW.subtract(hours=3)), timedelta(minutes=1)),
            ("9" * 400, timedelta(hours=6)),
        ],
        ids=["seconds", "http-date", "unreadable", "in-the-past", "huge"],
    )
    def test_retry_after_is_honoured(self, webhook, retry_after, expected):
        """A 503 or 429 with Retry-After (seconds or an HTTP date) is retried no sooner."""
        server, url = webhook
        server.status, server.answer_headers = 503, {"Retry-After": retry_after}
        outbox = Outbox(backoff=Backoff(jitter=0))
        outbox.add(note())
        (retrying,) = deliver(outbox, WebhookSender(url, SECRET), NOW).retrying
        assert expected == retrying.next_attempt_at - NOW

    def test_an_error_status_is_retried_then_sent(self, webhook):
        """A 5xx answer is a failed attempt with the status; a 2xx later sends it."""
        server, url = webhook
        server.status = 503
        outbox = Outbox()
        outbox.add(note())
        (retrying,) = deliver(outbox, WebhookSender(url, SECRET), NOW).retrying
        assert "answered HTTP 503" in (retrying.last_error or "")
        server.status = 204
        later = deliver(outbox, WebhookSender(url, SECRET), retrying.next_attempt_at)
        assert 1 == len(later.sent)
        assert [1, 2] == [json.loads(body)["attempt"] for _, body in server.received]
        assert 1 == len({headers["webhook-id"] for headers, _ in server.received})

    def test_redirects_are_not_followed(self, webhook):
        """A redirect is refused rather than turned into a GET without the body."""
        server, url = webhook
        server.status = 302
        with pytest.raises(DeliveryError) as caught:
            WebhookSender(url, SECRET)(note(), MESSAGE, NOW)
        assert (302, False) == (caught.value.status, caught.value.permanent)
        assert 1 == len(server.received)

    def test_nobody_listening(self):
        """An unreachable receiver is a DeliveryError."""
        sender = WebhookSender(f"http://127.0.0.1:{free_port()}/", SECRET, timeout=5)
        with pytest.raises(DeliveryError, match="not delivered"):
            sender(note(), MESSAGE, NOW)

    @pytest.mark.parametrize(
        ("url", "secret", "message"),
        [
            ("file:///etc/passwd", SECRET, "must be http"),
            ("https://example.com/", "", "needs a secret"),
            ("https://example.com/", [], "needs a secret"),
            ("https://example.com/", b"", "needs a secret"),
            ("https://example.com/", "s3cret", "starts with 'whsec_'"),
            ("https://example.com/", "whsec_not base64!", "not base64"),
            ("https://example.com/", "whsec_", "needs a secret"),
        ],
        ids=["scheme", "empty", "no-secrets", "empty-bytes", "no-prefix", "not-base64", "bare"],
    )
    def test_bad_settings_are_refused(self, url, secret, message):
        """Only http(s) URLs, and only with secrets in the Standard Webhooks form (or bytes)."""
        with pytest.raises(NotificationError, match=message):
            WebhookSender(url, secret)

    def test_extra_headers_and_repr(self, webhook):
        """Extra headers go with every request; a bytes secret is the key itself."""
        server, url = webhook
        sender = WebhookSender(url, b"raw key bytes", headers={"X-Tenant": "acme"})
        sender(note(), MESSAGE, NOW)
        ((headers, body),) = server.received
        assert "acme" == headers["x-tenant"]
        raw = "whsec_" + base64.b64encode(b"raw key bytes").decode()
        assert verify_signature(raw, headers, body, NOW)
        assert f"WebhookSender({url!r})" == repr(sender)


class TestSigning:
    def test_a_new_secret_is_standard(self, reference):
        """webhook_secret() makes a whsec_ secret of 32 random bytes the reference accepts."""
        secret = webhook_secret()
        key = base64.b64decode(secret.removeprefix("whsec_"))
        assert (True, 32, False) == (
            secret.startswith("whsec_"),
            len(key),
            secret == webhook_secret(),
        )
        body = b'{"a":1}'
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(int(NOW.timestamp())),
            "webhook-signature": sign(secret, "msg_1", int(NOW.timestamp()), body),
        }
        assert None is reference(secret).verify(body, headers, json_parse=False)

    @given(
        message=st.text(max_size=40),
        timestamp=st.integers(min_value=0, max_value=2**33),
        body=st.text(max_size=200),
        key=st.binary(min_size=1, max_size=64),
    )
    def test_signatures_match_the_reference_package(self, message, timestamp, body, key):
        """For any id, time, body and key, hirepipe signs exactly as `standardwebhooks` does."""
        secret = "whsec_" + base64.b64encode(key).decode()
        when = _dt.datetime.fromtimestamp(timestamp, _dt.UTC)
        expected = standardwebhooks.Webhook(secret).sign(message, when, body)
        assert expected == sign(secret, message, timestamp, body.encode())
        assert expected == sign(key, message, timestamp, body.encode())

    @pytest.mark.parametrize(
        "changes",
        [
            {"body": b'{"key": "forged"}'},
            {"secret": "whsec_" + base64.b64encode(b"another key").decode()},
            {"now": NOW.add(minutes=6)},
            {"now": NOW.subtract(minutes=6)},
            {"headers": {"webhook-timestamp": "yesterday"}},
            {"headers": {"webhook-timestamp": str(int(NOW.timestamp()) + 1)}},
            {"headers": {"webhook-timestamp": "9" * 400}},
            {"headers": {"webhook-timestamp": "-" + "9" * 400}},
            {"headers": {"webhook-timestamp": "\u0661\u0662\u0663"}},
            {"headers": {"webhook-timestamp": " 1736154000"}},
            {"headers": {"webhook-timestamp": "1736154000.0"}},
            {"headers": {"webhook-id": "msg_2"}},
            {"headers": {"webhook-signature": "v1,\u00e9\u00e9\u00e9="}},
            {"headers": {"webhook-signature": "v1,not base64!"}},
            {"headers": {"webhook-signature": "v1"}},
            {"headers": {"webhook-signature": "v1a,c2lnbmF0dXJl"}},
            {"headers": {"webhook-signature": ""}},
            {"headers": {"webhook-signature": None}},
            {"headers": {"webhook-timestamp": None}},
            {"headers": {"webhook-id": None}},
            {"headers": {"webhook-id": "\ud800"}},
        ],
        ids=[
            "tampered-body",
            "wrong-secret",
            "stale",
            "from-the-future",
            "timestamp-not-a-number",
            "timestamp-moved",
            "timestamp-400-digits",
            "timestamp-400-digits-negative",
            "timestamp-arabic-digits",
            "timestamp-with-space",
            "timestamp-with-fraction",
            "another-id",
            "signature-not-ascii",
            "signature-not-base64",
            "signature-without-value",
            "another-scheme",
            "signature-empty",
            "no-signature",
            "no-timestamp",
            "no-id",
            "id-lone-surrogate",
        ],
    )
    def test_forged_stale_or_broken_requests_are_refused(self, changes):
        """verify_signature answers False, never raises, for anything wrong with a request."""
        assert verify_signature(**signed())
        assert not verify_signature(**signed(**changes))

    @given(
        headers=st.dictionaries(
            st.sampled_from(
                ["webhook-id", "Webhook-Timestamp", "WEBHOOK-SIGNATURE", "webhook-timestamp"]
            )
            | st.text(max_size=20),
            st.text(max_size=60)
            | st.integers(min_value=-(10**400), max_value=10**400).map(str)
            | st.binary(max_size=40).map(lambda raw: "v1," + base64.b64encode(raw).decode()),
            max_size=6,
        ),
        body=st.binary(max_size=100),
    )
    def test_hostile_headers_never_raise(self, headers, body):
        """Any headers at all give a verdict of False: a receiver refuses, it never answers 500."""
        assert verify_signature(SECRET, headers, body, NOW) is False

    def test_several_secrets_verify_during_a_rotation(self):
        """A receiver given both keys accepts a request signed with either."""
        both = [SECRET, webhook_secret()]
        assert [True, True, False] == [
            verify_signature(**signed(signing=key, secret=both))
            for key in [*both, webhook_secret()]
        ]

    def test_headers_are_matched_case_insensitively(self):
        """Header names in any case are found (HTTP header names are case-insensitive)."""
        request = signed()
        request["headers"] = {name.upper(): value for name, value in request["headers"].items()}
        assert verify_signature(**request)

    def test_tolerance_is_configurable(self):
        """A receiver may allow a longer clock skew."""
        later = NOW.add(minutes=20)
        assert not verify_signature(**signed(now=later))
        assert verify_signature(**signed(now=later), tolerance=timedelta(minutes=30))

    def test_a_malformed_secret_is_a_configuration_error(self):
        """The receiver's own secret in the wrong form raises, saying what form it needs."""
        with pytest.raises(NotificationError, match="starts with 'whsec_'"):
            verify_signature(**signed(secret="plain"))
