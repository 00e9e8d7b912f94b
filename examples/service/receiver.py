"""Receiving hirepipe's webhooks: check the signature and its age, then handle each once.

:class:`hirepipe.notify.WebhookSender` POSTs every notification as signed JSON. The system
that sends the messages (a mailer, a candidate portal, a chat bot) receives them here::

    receiver = create_receiver(secret, handle=lambda payload: mailer.send(payload["to"], ...))
    # serve it: uvicorn.run(receiver), and point WebhookSender(url, secret) at /hirepipe

The requests follow Standard Webhooks: a request with a bad signature, or signed more than
five minutes away from now (a replay), gets 401; a notification already handled (the same
``webhook-id``: the sender retried after a timeout) gets 200 again without being handled twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request, Response

from hirepipe import Clock, SystemClock
from hirepipe.notify import verify_signature

__all__ = ["create_receiver"]


# --8<-- [start:receiver]
def create_receiver(
    secret: str | bytes | Sequence[str | bytes],
    handle: Callable[[dict[str, Any]], None],
    *,
    clock: Clock | None = None,
    path: str = "/hirepipe",
) -> FastAPI:
    """A web application that verifies hirepipe's webhooks at ``path`` and hands them on.

    ``secret`` is the sender's (``whsec_`` and base64); give the old and the new one while they
    rotate. ``handle`` gets the JSON payload (``to``, ``subject``, ``text``, ``html``,
    ``facts``...) once per notification; if it raises, the answer is 500 and the sender retries
    later. Keep the handled ids in your database in production: this example keeps them in
    memory.
    """
    now = (clock or SystemClock()).now
    handled: set[str] = set()
    app = FastAPI(title="hirepipe webhook receiver (example)")

    @app.post(path, status_code=200)
    async def receive(request: Request) -> Response:
        body = await request.body()
        if not verify_signature(secret, request.headers, body, now()):
            return Response("bad or stale signature", status_code=401)
        webhook_id = request.headers["webhook-id"]  # signed: the same on every retry
        if webhook_id not in handled:
            handle(json.loads(body))
            handled.add(webhook_id)
        return Response(status_code=200)

    return app


# --8<-- [end:receiver]
