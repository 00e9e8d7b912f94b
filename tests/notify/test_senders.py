"""Tests of hirepipe.notify's SMTP and webhook senders against real servers on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from hirepipe.notify import (
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
)
from tests.notify.test_outbox import NOW, note
from tests.notify.world import World

SECRET = "s3cret"
MESSAGE = Message(subject="Hello", text="Plain text\n", html="<p>HTML</p>\n")


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
        assert "Salary: 135,000 USD" in offer.get_body(("plain",)).get_content()
        assert "candidate1@example.com" == offer["To"]

    def test_a_refusal_is_retried(self, smtp):
        """A server that refuses the message makes a failed attempt, retried later."""
        mailbox, port = smtp
        mailbox.refuse = "554 Transaction failed"
        outbox = Outbox()
        outbox.add(note())
        (retrying,) = deliver(outbox, smtp_sender(port), NOW).retrying
        assert "554" in (retrying.last_error or "")
        mailbox.refuse = None
        assert 1 == len(deliver(outbox, smtp_sender(port), retrying.next_attempt_at).sent)
        assert NotificationStatus.sent == outbox.get(note().key).status

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
    """Keeps every POST; answers with the server's ``status``."""

    server: WebhookServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        self.send_response(self.server.status)
        if 300 <= self.server.status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


class WebhookServer(ThreadingHTTPServer):
    received: list[tuple[dict[str, str], bytes]]
    status: int


@pytest.fixture
def webhook(monkeypatch) -> Iterator[tuple[WebhookServer, str]]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    server = WebhookServer(("127.0.0.1", 0), Receiver)
    server.received, server.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class TestWebhookSender:
    def test_posts_signed_json(self, webhook):
        """The receiver gets the rendered message as JSON, signed and fresh."""
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
        assert (message_id(note()), "application/json") == (
            headers["Idempotency-Key"],
            headers["Content-Type"],
        )
        timestamp = headers["X-Hirepipe-Timestamp"]
        assert str(int(NOW.timestamp())) == timestamp
        signature = headers["X-Hirepipe-Signature"]
        assert signature.startswith("sha256=")
        assert verify_signature(SECRET, body, timestamp, signature, NOW.add(minutes=4))

    @pytest.mark.parametrize(
        "change",
        [
            {"body": b'{"key": "forged"}'},
            {"secret": "guess"},
            {"now": NOW.add(minutes=6)},
            {"now": NOW.subtract(minutes=6)},
            {"timestamp": "yesterday"},
            {"timestamp": str(int(NOW.timestamp()) + 1)},
        ],
        ids=["tampered", "wrong-secret", "replayed", "future", "bad-timestamp", "moved-timestamp"],
    )
    def test_forged_or_replayed_requests_fail_verification(self, change):
        """A changed body, another secret, a stale or altered timestamp: not verified."""
        body = WebhookSender.body(note(), MESSAGE)
        timestamp = str(int(NOW.timestamp()))
        request = {
            "secret": SECRET,
            "body": body,
            "timestamp": timestamp,
            "signature": sign(SECRET, timestamp, body),
            "now": NOW,
        }
        assert verify_signature(**request)
        request.update(change)
        assert not verify_signature(**request)

    def test_an_error_status_is_retried(self, webhook):
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

    def test_redirects_are_not_followed(self, webhook):
        """A redirect is refused rather than turned into a GET without the body."""
        server, url = webhook
        server.status = 302
        with pytest.raises(DeliveryError) as caught:
            WebhookSender(url, SECRET)(note(), MESSAGE, NOW)
        assert 302 == caught.value.status
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
        ],
        ids=["scheme", "secret"],
    )
    def test_bad_settings_are_refused(self, url, secret, message):
        """Only http(s) URLs, and only with a secret."""
        with pytest.raises(NotificationError, match=message):
            WebhookSender(url, secret)

    def test_extra_headers_and_repr(self, webhook):
        """Extra headers go with every request; the repr shows the URL only."""
        server, url = webhook
        sender = WebhookSender(url, b"bytes-secret", headers={"X-Tenant": "acme"})
        sender(note(), MESSAGE, NOW)
        ((headers, _),) = server.received
        assert "acme" == headers["X-Tenant"]
        assert f"WebhookSender({url!r})" == repr(sender)

    def test_tolerance_is_configurable(self):
        """A receiver may allow a longer clock skew."""
        body = b"{}"
        timestamp = str(int(NOW.timestamp()))
        signature = sign(SECRET, timestamp, body)
        later = NOW.add(minutes=20)
        assert not verify_signature(SECRET, body, timestamp, signature, later)
        assert verify_signature(
            SECRET, body, timestamp, signature, later, tolerance=timedelta(minutes=30)
        )
