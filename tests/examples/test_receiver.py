"""The example webhook receiver, fed by hirepipe's own WebhookSender over real HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pendulum
import pytest
import uvicorn
from examples.service.receiver import create_receiver

from hirepipe import DeliveryError
from hirepipe.notify import Message, Notification, WebhookSender, webhook_secret
from hirepipe.testing import FakeClock

NOW = pendulum.datetime(2025, 1, 6, 9, tz="UTC")
SECRET = webhook_secret()
NOTIFICATION = Notification(
    key="app-1/3/status_update/cand-1",
    rule="status_update",
    template="status_update",
    application_id="app-1",
    requisition_id="req-42",
    trigger="hold",
    role="candidate",
    to="cand-1",
    address="ada@example.com",
    created_at=NOW,
    due_at=NOW,
    next_attempt_at=NOW,
)
MESSAGE = Message(subject="Where things stand", text="Paused for now.", html="<p>Paused</p>")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def received() -> Iterator[tuple[str, list[dict[str, Any]], FakeClock]]:
    """A receiver served on 127.0.0.1 in a thread: its URL, what it handled, its clock."""
    handled: list[dict[str, Any]] = []
    clock = FakeClock(NOW)
    app = create_receiver(SECRET, handled.append, clock=clock)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/hirepipe", handled, clock
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_a_signed_notification_is_handled_once(received):
    """What WebhookSender posts is accepted and handled; a retry of it is not handled again."""
    url, handled, _ = received
    sender = WebhookSender(url, SECRET)
    sender(NOTIFICATION, MESSAGE, NOW)
    sender(NOTIFICATION, MESSAGE, NOW.add(seconds=30))  # the sender retried after a timeout
    assert [("ada@example.com", "Where things stand", "Paused for now.")] == [
        (p["to"]["address"], p["subject"], p["text"]) for p in handled
    ]


@pytest.mark.parametrize(
    ("secret", "sent_at"),
    [(webhook_secret(), NOW), (SECRET, NOW.subtract(minutes=6))],
    ids=["bad-signature", "replayed"],
)
def test_forged_or_stale_requests_are_refused(received, secret, sent_at):
    """A bad signature, or one made long ago (a replay), gets 401 and is not handled."""
    url, handled, _ = received
    with pytest.raises(DeliveryError) as refused:
        WebhookSender(url, secret)(NOTIFICATION, MESSAGE, sent_at)
    assert (401, []) == (refused.value.status, handled)
