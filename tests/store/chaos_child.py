"""The chaos test's world, and its child processes: workers that fire, deliverers that send.

Run as ``python -m tests.store.chaos_child`` from the repository's root, this module is a
zygote: it imports everything once and forks a worker or a deliverer per request (see
`zygote`), which the parent (``test_chaos.py``) SIGKILLs and starts again. Each child
writes one line per step to its own append-only journal (``options['journal']``), a JSON object
per line:

- a worker writes ``try`` before each fire, ``ack`` (fsync'd) with every record a fire
  returned, and ``refused``/``error`` when a fire raised;
- a deliverer writes ``send`` before each request, ``answer`` after it, and ``outcome`` once
  the outbox recorded it (``unrecorded`` when its claim no longer held).

Both write ``ready`` once connected to the database; they stop on their own when ``options['stop']``
exists. Time is one clock for every process (`chaos_now`): ``BASE`` plus the system-wide
monotonic clock since the parent's ``origin``, so that leases and backoffs run out across
processes as they would in production.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hirepipe import (
    Application,
    ConcurrentUpdate,
    GuardRejected,
    HirepipeError,
    Pipeline,
    Requisition,
    TransitionNotAllowed,
    standard_policy,
)
from hirepipe.clock import ManualClock
from hirepipe.notify import (
    Backoff,
    Claim,
    DeliveryError,
    Message,
    Notification,
    Notifier,
    WebhookSender,
    deliver,
    no_estimate,
)
from hirepipe.notify._senders import _default_templates
from hirepipe.store import Store, StoreOutbox
from tests.store.helpers import START

POLICY = standard_policy()
BASE = datetime(2025, 2, 3, 9, tzinfo=UTC)  # after every notification the workers make is due
LEASE = timedelta(seconds=2)  # short: a killed deliverer's claims run out within the test
TIMEOUT = 1.5  # the sender's; the receiver's hang outlasts it, its slow answers do not
ATTEMPTS = 5  # a notification's tries before it fails for good
SECRET = "whsec_" + "Y2hhb3MtdGVzdC1zZWNyZXQtMzItYnl0ZXMhIQ=="  # 32 bytes, base64


def backoff(seed: int) -> Backoff:
    """Retries within the test's time: 0.2 s, 0.4 s, 0.8 s, 1.6 s apart, jittered."""
    return Backoff(
        attempts=ATTEMPTS,
        first=timedelta(seconds=0.2),
        factor=2.0,
        cap=timedelta(seconds=2),
        random=random.Random(seed).random,
    )


def chaos_now(origin: float) -> datetime:
    """The processes' shared clock: ``BASE`` plus the seconds since the parent's ``origin``."""
    return BASE + timedelta(seconds=time.monotonic() - origin)


def open_store(options: dict[str, Any], *, seed: int) -> Store:
    """A store on the test's schema, its pipeline at START telling candidates what happens."""
    pipeline = Pipeline(POLICY, clock=ManualClock(START))
    store = Store(
        options["url"], pipeline, schema=options["schema"], backoff=backoff(seed), lease=LEASE
    )
    pipeline.hooks.append(Notifier(store.outbox, POLICY, estimate=no_estimate))
    return store


class Journal:
    """An append-only file of JSON lines; ``durable`` lines are fsync'd before it returns.

    Every line is one ``os.write`` to an ``O_APPEND`` descriptor, so a SIGKILL keeps every line
    written before it (the kernel has it); fsync keeps acknowledged work across a power cut too.
    """

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, kind: str, *, durable: bool = False, **fields: Any) -> None:
        os.write(self._fd, (json.dumps({"kind": kind, **fields}) + "\n").encode())
        if durable:
            os.fsync(self._fd)


def read_journal(path: str) -> list[dict[str, Any]]:
    """The whole lines of a journal (a line cut short by a kill is not one)."""
    with open(path, encoding="utf-8") as file:
        text = file.read()
    return [json.loads(line) for line in text.split("\n")[:-1] if line]


# -- the world ---------------------------------------------------------------------------------

REQUISITIONS = {"req-1": 2, "req-2": 1, "req-3": 2}  # id: headcount
STAGES = ("offer", "references", "review", "review", "review", "review")


def application_ids() -> list[str]:
    """Every application of the world, ``req-1-a1`` onwards."""
    return [f"{req}-a{n}" for req in REQUISITIONS for n in range(1, len(STAGES) + 1)]


# -- random valid events -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    """One event to fire: who fires it, why, with what data, and whether through the slate."""

    event: str
    actor: str
    reason: str | None
    data: dict[str, Any]
    slate: bool


Maker = Callable[[Application, random.Random, str], tuple[str, str | None, dict[str, Any]]]


def _tagged(actor: str) -> Maker:
    """An event with a note: the tag in its text (unique per fire, so records never coincide)."""
    return lambda app, rng, tag: (actor, tag, {"text": tag})


def _reasoned(app: Application, rng: random.Random, tag: str) -> tuple[str, str | None, dict]:
    return "maria", tag, {}


def _referee(event: str) -> Maker:
    def make(app: Application, rng: random.Random, tag: str) -> tuple[str, str | None, dict]:
        referee = f"referee-{rng.randint(1, 3)}"
        data: dict[str, Any] = {"referee": referee}
        if event == "add_reference":
            data.update(contact=f"{referee}@example.com", consent=True)
        elif event == "complete_reference":
            data["outcome"] = "satisfactory"
        return "maria", tag, data

    return make


MENU: dict[str, tuple[float, Maker]] = {
    # activities, the bulk of any day
    "note": (1, _tagged("maria")),
    "inquiry": (0.15, lambda app, rng, tag: (app.candidate.id, tag, {"text": tag})),
    "thank_you_received": (0.15, lambda app, rng, tag: (app.candidate.id, tag, {"text": tag})),
    "submit_scorecard": (
        0.5,
        lambda app, rng, tag: (
            rng.choice(["alice", "bob"]),
            tag,
            {"recommendation": rng.choice(["strong_yes", "yes", "yes", "no"]), "notes": tag},
        ),
    ),
    "record_approval": (3, lambda app, rng, tag: ("cfo", tag, {"granted": True, "note": tag})),
    "send_reference_notice": (1, _reasoned),
    "add_reference": (4, _referee("add_reference")),
    "contact_reference": (8, _referee("contact_reference")),
    "complete_reference": (8, _referee("complete_reference")),
    # the way forward
    "request_approval": (4, lambda app, rng, tag: ("maria", tag, {"salary": Decimal(135_000)})),
    "approve": (10, _reasoned),
    "extend_offer": (
        10,
        lambda app, rng, tag: (
            "maria",
            tag,
            {"salary": Decimal(135_000), "start_date": START.date() + timedelta(weeks=8)},
        ),
    ),
    "counter": (1, lambda app, rng, tag: (app.candidate.id, tag, {"salary": Decimal(145_000)})),
    "revise_offer": (2, lambda app, rng, tag: ("maria", tag, {"salary": Decimal(140_000)})),
    # the requisition's rules: a fill, a fall-through
    "accept": (2, lambda app, rng, tag: (app.candidate.id, tag, {"text": tag})),
    "decline": (2, lambda app, rng, tag: (app.candidate.id, tag, {"text": tag})),
    "withdraw": (0.03, lambda app, rng, tag: (app.candidate.id, tag, {})),
    "reject": (
        1,
        lambda app, rng, tag: ("maria", "skills", {"feedback": f"We need more depth ({tag})."}),
    ),
    # pauses and ways back
    "hold": (0.5, _reasoned),
    "resume": (3, _reasoned),
    "keep_warm": (
        1,
        lambda app, rng, tag: ("maria", tag, {"warm_until": START.add(months=6), "consent": True}),
    ),
    "reactivate": (2, _reasoned),
    "reopen": (2, _reasoned),
}


def choose(
    pipeline: Pipeline,
    application: Application,
    requisition: Requisition,
    rng: random.Random,
    tag: str,
) -> Choice | None:
    """A random event that the application's stage and guards allow now, or None."""
    options: list[tuple[float, Choice]] = []
    for event in pipeline.policy.events_from(application.stage):
        if event not in MENU:
            continue
        weight, make = MENU[event]
        actor, reason, data = make(application, rng, tag)
        if pipeline.blockers(
            application, event, requisition=requisition, reason=reason, actor=actor, **data
        ):
            continue
        dest = pipeline.policy.events[event].dest
        ends = dest in pipeline.policy.stages and pipeline.policy.is_terminal(dest)
        chosen = event in ("accept", "request_approval") or ends
        # most of the requisition's events go through the slate; a few, and a few others, not
        slate = rng.random() < (0.8 if chosen else 0.1)
        options.append((weight, Choice(event, actor, reason, data, slate)))
    if not options:
        return None
    return rng.choices([c for _, c in options], weights=[w for w, _ in options])[0]


# -- the children --------------------------------------------------------------------------------


def work(options: dict[str, Any]) -> None:
    """Fire random valid events, with expected_version, until the stop file appears."""
    name = options["name"]
    rng = random.Random(options["seed"])
    store = open_store(options, seed=options["seed"])
    journal = Journal(options["journal"])
    ids = application_ids()
    store.load(ids[0])  # connected, and the first statements compiled: ready to be killed
    journal.write("ready", durable=True)
    count = 0
    while not os.path.exists(options["stop"]):
        count += 1
        tag = f"{name}#{count}"
        target = rng.choice(ids)
        application = store.load(target)
        requisition = store.requisition(application.requisition_id)
        choice = choose(store.pipeline, application, requisition, rng, tag)
        if choice is None:
            continue
        journal.write("try", id=target, event=choice.event, slate=choice.slate)
        try:
            if choice.slate:
                fired = store.slate_fire(
                    target,
                    choice.event,
                    actor=choice.actor,
                    reason=choice.reason,
                    expected_version=application.version,
                    **choice.data,
                )
            else:
                fired = [
                    store.fire(
                        target,
                        choice.event,
                        actor=choice.actor,
                        reason=choice.reason,
                        expected_version=application.version,
                        **choice.data,
                    )
                ]
        except ConcurrentUpdate:
            journal.write("refused", why="concurrent", event=choice.event)
            continue
        except (GuardRejected, TransitionNotAllowed) as exc:  # the state moved since the load
            journal.write("refused", why=type(exc).__name__, event=choice.event)
            continue
        except HirepipeError as exc:
            journal.write("error", error=f"{type(exc).__name__}: {exc}", event=choice.event)
            continue
        journal.write(
            "ack",
            durable=True,
            slate=choice.slate,
            records=[
                {"id": f.application.id, "record": json.loads(f.record.model_dump_json())}
                for f in fired
            ],
        )


class JournaledOutbox(StoreOutbox):
    """A StoreOutbox that journals each outcome it recorded (after its commit).

    An outcome refused because the claim no longer held is journaled ``unrecorded``, with
    ``lapsed``: whether the claim's lease had run out by then on the shared clock (the only
    way a sound outbox loses a claim: its deliverer stalled past the lease).
    """

    def __init__(self, store: Store, journal: Journal, origin: float, *, seed: int) -> None:
        super().__init__(store, backoff=backoff(seed), lease=LEASE)
        self.journal = journal
        self.origin = origin

    def mark_sent(self, key: str, now: datetime, *, claim: Claim | None = None) -> Notification:
        try:
            found = super().mark_sent(key, now, claim=claim)
        except HirepipeError as exc:
            self._unrecorded(key, claim, exc)
            raise
        self.journal.write("outcome", key=key, status="sent")
        return found

    def mark_failed(
        self,
        key: str,
        now: datetime,
        error: str | BaseException,
        *,
        claim: Claim | None = None,
    ) -> Notification:
        try:
            found = super().mark_failed(key, now, error, claim=claim)
        except HirepipeError as exc:
            self._unrecorded(key, claim, exc)
            raise
        self.journal.write("outcome", key=key, status=str(found.status), attempts=found.attempts)
        return found

    def _unrecorded(self, key: str, claim: Claim | None, exc: Exception) -> None:
        lapsed = claim is not None and claim.until <= chaos_now(self.origin)
        self.journal.write("outcome", key=key, status="unrecorded", lapsed=lapsed, error=str(exc))


class JournaledSender:
    """The WebhookSender, journaling each request before it goes and its answer after."""

    def __init__(self, sender: WebhookSender, journal: Journal) -> None:
        self.sender = sender
        self.journal = journal

    def __call__(self, notification: Notification, message: Message, now: datetime, /) -> None:
        attempt = notification.attempts + 1
        self.journal.write("send", key=notification.key, attempt=attempt)
        try:
            self.sender(notification, message, now)
        except DeliveryError as exc:
            self.journal.write(
                "answer", key=notification.key, attempt=attempt, ok=False, error=str(exc)
            )
            raise
        self.journal.write("answer", key=notification.key, attempt=attempt, ok=True)


def send(options: dict[str, Any]) -> None:
    """Deliver the outbox to the receiver, in small batches, until the stop file appears."""
    store = open_store(options, seed=options["seed"])
    journal = Journal(options["journal"])
    outbox = JournaledOutbox(store, journal, options["origin"], seed=options["seed"])
    sender = JournaledSender(WebhookSender(options["receiver"], SECRET, timeout=TIMEOUT), journal)
    store.outbox.pending()  # connected: ready to be killed
    journal.write("ready", durable=True)
    while not os.path.exists(options["stop"]):
        report = deliver(outbox, sender, chaos_now(options["origin"]), limit=4)
        if not (report.sent or report.retrying or report.failed or report.unrecorded):
            time.sleep(0.05)  # nothing due: let the workers make some


CHILDREN: dict[str, Callable[[dict[str, Any]], None]] = {"worker": work, "deliverer": send}


def zygote() -> None:
    """Fork a child per request: a restart costs a fork, not a second of imports.

    Reads one JSON request per line on stdin (``mode``, ``options``, and ``exit``: a file
    for the child's exit code, written when it ends) and answers each with the child's pid.
    Nothing here opens a connection or starts a thread, so every child starts clean.
    """
    _default_templates()  # what every deliverer would load first
    exits: dict[int, str] = {}

    def reap(signum: int, frame: object) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            with open(exits.pop(pid), "w", encoding="utf-8") as file:
                file.write(str(os.waitstatus_to_exitcode(status)))

    signal.signal(signal.SIGCHLD, reap)
    for line in sys.stdin:
        request = json.loads(line)
        # no child may end before its exit file is known: SIGCHLD waits until it is
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        pid = os.fork()
        if pid == 0:
            _child(request)
        exits[pid] = request["exit"]
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        print(pid, flush=True)


def _child(request: dict[str, Any]) -> None:
    """Run one child in the forked process and end it: exit code 0, or 1 with a traceback."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
    errors = os.open(request["options"]["errors"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    nothing = os.open(os.devnull, os.O_RDWR)
    os.dup2(nothing, 0)
    os.dup2(nothing, 1)
    os.dup2(errors, 2)
    code = 0
    try:
        CHILDREN[request["mode"]](request["options"])
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    zygote()
