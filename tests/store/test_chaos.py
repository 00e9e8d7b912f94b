"""A chaos test in the spirit of Jepsen: writers and deliverers killed at random, nothing lost.

Three worker processes fire random valid events (plain fires and the requisition's fills and
fall-throughs through ``Store.slate_fire``, each with ``expected_version``) on three
requisitions in PostgreSQL; two deliverer processes send the outbox to a webhook receiver on
127.0.0.1 that fails, refuses, hangs past the sender's timeout and answers slowly, at random.
The test SIGKILLs workers and deliverers at random moments and restarts them. Afterwards,
with everything stopped and one clean delivery pass made:

- every fire a worker saw acknowledged is in the log, record for record, at its version;
- every log verifies and replays to its snapshot (``store.verify()`` is empty);
- no requisition has more hired than its headcount, and a fill or a fall-through followed
  only a hire or a departure;
- every logged event made its rules' notifications, and nothing else made any;
- every notification was accepted by the receiver exactly once, or failed for good (refused,
  or every attempt used) and was never accepted; a second acceptance is allowed only where a
  deliverer was killed with it in flight, lost its claim after its lease had lapsed, or timed
  out on an answer the receiver had given; a sent notification's record is in its
  application's history once;
- no claim outlives its lease, and none is left after the final pass.

The test runs on real time (about a minute): the kills must land in real work, and leases and
backoffs must run out across processes. It prints what it did (``pytest -s``), and every
failure message carries the same summary.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hirepipe import Pipeline
from hirepipe.notify import WebhookSender, deliver, message_id, verify_signature
from hirepipe.policy import Recipient, StageRole
from hirepipe.store import Store
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from tests.store import helpers as store_helpers
from tests.store.chaos_child import (
    ATTEMPTS,
    LEASE,
    POLICY,
    REQUISITIONS,
    SECRET,
    STAGES,
    TIMEOUT,
    Journal,
    JournaledOutbox,
    application_ids,
    chaos_now,
    open_store,
    read_journal,
)
from tests.store.helpers import ROOT, START, Database

postgres = store_helpers.postgres  # the fixture: a PostgreSQL schema of its own

SEED = 17
WORKERS, DELIVERERS = 3, 2
CHAOS_SECONDS = 45.0  # the kills stop after this; everything stops soon after
PAUSE = (0.3, 1.5)  # seconds between two kills
# what the receiver does with a request, and how often (the rest of the time: 200 at once)
MODES = {"slow": 0.15, "error": 0.12, "busy": 0.05, "refuse": 0.02, "hang": 0.03}


# -- the receiver ----------------------------------------------------------------------------------


class Receiver(ThreadingHTTPServer):
    """A webhook receiver that checks signatures and misbehaves at random (seeded).

    ``accepted`` holds ``(webhook-id, key, attempt)`` for every request answered 2xx;
    ``modes`` counts what it did. With ``clean`` set it accepts everything.
    """

    daemon_threads = True

    def __init__(self, origin: float, seed: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.origin = origin
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.accepted: list[tuple[str, str, int]] = []
        self.modes: Counter[str] = Counter()
        self.clean = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"

    def mode(self) -> tuple[str, float]:
        """What to do with the next request, and for how long a slow answer waits."""
        with self.lock:
            if self.clean:
                return "ok", 0.0
            roll, total = self.rng.random(), 0.0
            for name, share in MODES.items():
                total += share
                if roll < total:
                    return name, self.rng.uniform(0.05, 0.3)
            return "ok", 0.0

    def count(self, name: str) -> None:
        with self.lock:
            self.modes[name] += 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone before the answer (it timed out on a hang): counted, not printed."""
        self.count("client_gone")


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        server = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {name.lower(): value for name, value in self.headers.items()}
        if not verify_signature(SECRET, headers, body, chaos_now(server.origin)):
            server.count("bad_signature")
            self.answer(401)
            return
        payload = json.loads(body)
        mode, delay = server.mode()
        server.count(mode)
        if mode == "hang":
            time.sleep(TIMEOUT + 0.5)  # the sender has given up; this answer reaches nobody
            self.answer(503)
        elif mode == "error":
            self.answer(500)
        elif mode == "busy":
            self.answer(503, {"Retry-After": "1"})
        elif mode == "refuse":
            self.answer(400)
        else:
            if mode == "slow":
                time.sleep(delay)
            with server.lock:  # before the answer: a 2xx the sender read was always counted
                server.accepted.append((headers["webhook-id"], payload["key"], payload["attempt"]))
            self.answer(200)

    def answer(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(time.monotonic(), SEED)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# -- the processes ---------------------------------------------------------------------------------


@dataclass
class Child:
    """One incarnation of a worker or deliverer slot: a process forked by the zygote."""

    slot: str
    incarnation: int
    pid: int
    journal: Path
    errors: Path
    exit: Path
    killed: bool = False

    def ready(self) -> bool:
        """Whether it has opened its store (its journal's first line) and still runs."""
        return self.journal.exists() and self.journal.stat().st_size > 0 and not self.ended()

    def ended(self) -> bool:
        return self.exit.exists() and self.exit.stat().st_size > 0

    def exit_code(self, timeout: float) -> int | None:
        """The exit code, once the zygote has reaped the process (None after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while not self.ended():
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)
        return int(self.exit.read_text())

    def said(self) -> str:
        text = self.errors.read_text() if self.errors.exists() else ""
        return text[-2000:] if text else "nothing on stderr"


@dataclass
class Chaos:
    """Starts, kills and restarts the children; keeps every incarnation for the checks.

    Children are forked by a zygote (``python -m tests.store.chaos_child``) that has imported
    everything once, so a restart takes milliseconds and the kills land in the work.
    """

    database: Database
    receiver: Receiver
    directory: Path
    rng: random.Random
    children: list[Child] = field(default_factory=list)
    running: dict[str, Child] = field(default_factory=dict)
    crashed: list[str] = field(default_factory=list)
    zygote: subprocess.Popen[str] | None = None

    @property
    def stop(self) -> Path:
        return self.directory / "stop"

    def open(self) -> None:
        environment = {
            name: value for name, value in os.environ.items() if "proxy" not in name.lower()
        }
        with open(self.directory / "zygote.err", "wb") as errors:
            self.zygote = subprocess.Popen(
                [sys.executable, "-m", "tests.store.chaos_child"],
                cwd=ROOT,
                env=environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )

    def start(self, slot: str) -> None:
        assert self.zygote is not None
        assert self.zygote.stdin is not None
        assert self.zygote.stdout is not None
        incarnation = sum(child.slot == slot for child in self.children) + 1
        name = f"{slot}-{incarnation}"
        journal, errors, exit = (self.directory / f"{name}.{x}" for x in ("jsonl", "err", "exit"))
        options = {
            **self.database.child_options(),
            "name": name,
            "seed": SEED * 10_000 + len(self.children),
            "journal": str(journal),
            "errors": str(errors),
            "stop": str(self.stop),
            "origin": self.receiver.origin,
            "receiver": self.receiver.url,
        }
        mode = "worker" if slot.startswith("w") else "deliverer"
        request = {"mode": mode, "options": options, "exit": str(exit)}
        self.zygote.stdin.write(json.dumps(request) + "\n")
        self.zygote.stdin.flush()
        answer = self.zygote.stdout.readline()
        assert answer, (self.directory / "zygote.err").read_text()[-2000:]  # the zygote died
        pid = int(answer)
        child = Child(slot, incarnation, pid, journal, errors, exit)
        self.children.append(child)
        self.running[slot] = child

    def reap(self) -> None:
        """Restart any child that died on its own, keeping what it said (a test failure)."""
        for slot, child in list(self.running.items()):
            if child.ended():
                self.crashed.append(f"{slot}-{child.incarnation}: {child.said()}")
                self.start(slot)

    def kill_one(self) -> None:
        ready = [child for child in self.running.values() if child.ready()]
        if not ready:
            return
        victim = self.rng.choice(sorted(ready, key=lambda child: child.slot))
        os.kill(victim.pid, signal.SIGKILL)
        victim.killed = True
        code = victim.exit_code(timeout=30)
        if code != -signal.SIGKILL:  # it ended by itself just before
            self.crashed.append(f"{victim.slot}-{victim.incarnation}: exit {code}")
        self.start(victim.slot)

    def run(self, seconds: float) -> None:
        self.open()
        for number in range(1, WORKERS + 1):
            self.start(f"w{number}")
        for number in range(1, DELIVERERS + 1):
            self.start(f"d{number}")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(self.rng.uniform(*PAUSE))
            self.reap()
            self.kill_one()

    def stop_all(self) -> None:
        """Ask every child to stop after its current step; kill any that does not in time."""
        self.stop.touch()
        for child in self.running.values():
            code = child.exit_code(timeout=90)
            if code is None:
                os.kill(child.pid, signal.SIGKILL)
                self.crashed.append(f"{child.slot}-{child.incarnation}: did not stop")
            elif code != 0:
                self.crashed.append(f"{child.slot}-{child.incarnation}: {child.said()}")
        if self.zygote is not None:
            self.zygote.communicate(timeout=30)  # its stdin closed: it ends


# -- the world and the checks ----------------------------------------------------------------------


def populate(store: Store) -> dict[str, int]:
    """Three requisitions, each with candidates at an offer, in references and in review.

    Returns each application's version as added (its history so far made no notifications).
    """
    builder = Pipeline(POLICY, clock=FakeClock(START))  # no hooks: builds the histories
    number, added = 0, {}
    for requisition_id, headcount in REQUISITIONS.items():
        requisition = make_requisition(id=requisition_id, headcount=headcount)
        store.add_requisition(requisition)
        for place, stage in enumerate(STAGES, start=1):
            number += 1
            application = make_application(
                builder,
                requisition.model_copy(),
                stage=stage,
                candidate=make_candidate(number),
                interviewers=("alice", "bob"),
            )
            application.__dict__["id"] = f"{requisition_id}-a{place}"  # before anything refers
            store.add(application)
            added[application.id] = application.version
    return added


@dataclass
class Findings:
    """What the run did (``summary``) and what it broke (``problems``)."""

    summary: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def check(self, holds: bool, problem: str) -> None:
        if not holds:
            self.problems.append(problem)

    def report(self) -> str:
        lines = [f"  {name}: {value}" for name, value in self.summary.items()]
        return "chaos run:\n" + "\n".join(lines)


def started_rules(record: dict[str, Any]) -> bool:
    """Whether a record may bring the requisition's rules: a hire fills, a departure falls through.

    A hire is entering a hired stage; a departure is leaving the headcount for another end.
    An activity (a note on the hire, say) brings neither.
    """
    before, after = record["from_stage"], record["to_stage"]
    hired = POLICY.stage(after).role is StageRole.hired and before != after
    departed = POLICY.fell_through(after) and before in POLICY.stages_in(StageRole.in_flight)
    return hired or departed


def check_fires(store: Store, chaos: Chaos, findings: Findings) -> None:
    """Every acknowledged fire is in the log at its version, record for record.

    And the requisition's rules (a fill, a fall-through) followed only a hire or a departure.
    """
    acknowledged: dict[tuple[str, int], dict[str, Any]] = {}
    events: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    slate_fires = follow_ups = tries = killed_mid_fire = 0
    for child in chaos.children:
        if not child.slot.startswith("w") or not child.journal.exists():
            continue
        lines = read_journal(str(child.journal))
        for line in lines:
            if line["kind"] == "try":
                tries += 1
            elif line["kind"] == "refused":
                refused[line["why"]] += 1
            elif line["kind"] == "error":
                findings.problems.append(f"{child.slot}-{child.incarnation}: {line}")
            elif line["kind"] == "ack":
                slate_fires += line["slate"]
                follow_ups += len(line["records"]) - 1
                findings.check(
                    len(line["records"]) == 1 or started_rules(line["records"][0]["record"]),
                    f"the requisition's rules followed {line['records'][0]}: {line['records'][1:]}",
                )
                for fired in line["records"]:
                    record = fired["record"]
                    events[record["event"]] += 1
                    place = (fired["id"], record["version"])
                    findings.check(
                        acknowledged.setdefault(place, record) == record,
                        f"two acknowledged fires at {place}: {acknowledged[place]} and {record}",
                    )
        killed_mid_fire += child.killed and bool(lines) and lines[-1]["kind"] == "try"
    logged = {i: store.replay(i) for i in application_ids()}
    for (application_id, version), record in sorted(acknowledged.items()):
        history = logged[application_id].history
        found = (
            json.loads(history[version - 1].model_dump_json()) if version <= len(history) else None
        )
        findings.check(
            found == record,
            f"acknowledged {application_id} v{version} {record['event']} is not in the log: "
            f"the log has {found}",
        )
    findings.summary.update(
        fires_tried=tries,
        records_acknowledged=len(acknowledged),
        through_slate_fire=slate_fires,
        fill_and_fall_through_events=follow_ups,
        refused=dict(refused),
        workers_killed_mid_fire=killed_mid_fire,
        events=dict(events.most_common()),
        log_rows=sum(len(application.history) for application in logged.values()),
    )


def check_requisitions(store: Store, findings: Findings) -> None:
    """No requisition has more hired than its headcount; ``filled`` counts the hired."""
    found = {}
    for requisition_id, headcount in REQUISITIONS.items():
        hired = len(store.applications(requisition_id=requisition_id, stage="hired"))
        requisition = store.requisition(requisition_id)
        found[requisition_id] = f"{hired}/{headcount} hired, {requisition.status}"
        findings.check(
            hired == requisition.filled and hired <= headcount,
            f"{requisition_id}: {hired} hired, filled {requisition.filled}, headcount {headcount}",
        )
    findings.summary["requisitions"] = found
    findings.summary["stages"] = dict(Counter(a.stage for a in store.applications()))


def deliverer_journals(
    chaos: Chaos, findings: Findings
) -> tuple[Counter[str], Counter[str], Counter[str], Counter[tuple[str, int]]]:
    """What the deliverers' journals say: keys in flight when one was killed, and more.

    Also outcomes lost once a lease had lapsed, the sender's answers, and the attempts that
    timed out. An outcome lost while its claim still held is a problem.
    """
    in_flight: Counter[str] = Counter()
    unrecorded: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    timed_out: Counter[tuple[str, int]] = Counter()
    for child in chaos.children:
        if not child.slot.startswith("d") or not child.journal.exists():
            continue
        open_sends: set[str] = set()
        for line in read_journal(str(child.journal)):
            if line["kind"] == "send":
                open_sends.add(line["key"])
            elif line["kind"] == "answer":
                answers["ok" if line["ok"] else "error"] += 1
                if not line["ok"] and "timed out" in line["error"]:
                    timed_out[(line["key"], line["attempt"])] += 1
                    answers["timed_out"] += 1
            elif line["kind"] == "outcome":
                open_sends.discard(line["key"])
                if line["status"] == "unrecorded" and line["lapsed"]:
                    unrecorded[line["key"]] += 1
                elif line["status"] == "unrecorded":
                    findings.problems.append(f"a claim was taken while it held: {line}")
        if child.killed:
            in_flight.update(open_sends)
    return in_flight, unrecorded, answers, timed_out


def check_notifications(
    store: Store,
    chaos: Chaos,
    receiver: Receiver,
    findings: Findings,
    *,
    final_now: Any,
    added: dict[str, int],
) -> None:
    """Each notification accepted once (more only where a kill or a lost claim explains it)."""
    in_flight, unrecorded, answers, timed_out = deliverer_journals(chaos, findings)
    accepted = Counter(webhook_id for webhook_id, _, _ in receiver.accepted)
    # a 2xx the sender gave up on (a slow answer past its timeout on a loaded machine)
    crossed = Counter(key for _, key, attempt in receiver.accepted if timed_out.get((key, attempt)))
    notifications = list(store.outbox)
    known = {message_id(n) for n in notifications}
    findings.check(
        set(accepted) <= known, f"the receiver accepted unknown ids: {set(accepted) - known}"
    )
    statuses: Counter[str] = Counter()
    duplicates = retried = 0
    for notification in notifications:
        statuses[str(notification.status)] += 1
        times = accepted[message_id(notification)]
        allowed = in_flight[notification.key] + unrecorded[notification.key]
        allowed += crossed[notification.key]
        duplicates += max(times - 1, 0)
        retried += notification.attempts > 1
        if notification.status == "sent":
            findings.check(
                1 <= times <= 1 + allowed,
                f"{notification.key} is sent and was accepted {times} times "
                f"({allowed} explained by kills, lost claims or timeouts)",
            )
        elif notification.status == "failed":
            # failed for good: refused (HTTP 400), or every attempt used
            why = notification.last_error or ""
            findings.check(
                times <= allowed and ("HTTP 400" in why or notification.attempts == ATTEMPTS),
                f"{notification.key} failed after {notification.attempts} attempts "
                f"({notification.last_error}) and was accepted {times} times",
            )
        else:
            findings.problems.append(f"{notification.key} is still pending after the final pass")
    table = chaos.database.table("hirepipe_outbox")
    held = chaos.database.execute(
        f"SELECT key FROM {table} WHERE claimed_until > :now", now=final_now
    )
    findings.check(not held, f"claims held past the final pass: {[row.key for row in held]}")
    findings.check(
        not receiver.modes["bad_signature"],
        f"{receiver.modes['bad_signature']} requests failed the signature check",
    )
    check_records(store, notifications, added, findings)
    findings.summary.update(
        notifications=dict(statuses),
        notifications_retried=retried,
        receiver=dict(receiver.modes),
        sender_answers=dict(answers),
        accepted_twice_explained=duplicates,
        deliverers_killed_mid_send=sum(in_flight.values()),
        outcomes_unrecorded=sum(unrecorded.values()),
    )


def check_records(
    store: Store, notifications: list[Any], added: dict[str, int], findings: Findings
) -> None:
    """Each logged event made its rules' notifications, and nothing else made any.

    And a sent notification whose rule records an activity has it in the history, once.
    """
    histories = {i: store.load(i).history for i in application_ids()}
    expected = {
        (application_id, record.version, rule.name)
        for application_id, history in histories.items()
        for record in history[added[application_id] :]
        for rule in POLICY.notifications
        if (
            record.event in rule.events
            or (record.kind == "transition" and record.to_stage in rule.stages)
        )
        # a rule for the person acted for: only when someone acted for another
        and (rule.to != Recipient.on_behalf_of or "on_behalf_of" in record.data)
    }
    made = {(n.application_id, int(n.key.split("/")[1]), n.rule) for n in notifications}
    findings.check(
        expected == made,
        f"notifications without their event: {sorted(made - expected)[:5]}; "
        f"events without their notifications: {sorted(expected - made)[:5]}",
    )
    recorded = 0
    for notification in notifications:
        if notification.status != "sent" or notification.records is None:
            continue
        found = [
            record
            for record in histories[notification.application_id]
            if record.event == notification.records
            and notification.key in str(record.data.get("text", ""))
        ]
        recorded += len(found)
        findings.check(
            len(found) == 1,
            f"{notification.key} is sent; its {notification.records!r} is recorded "
            f"{len(found)} times",
        )
    findings.summary["sent_records_in_histories"] = recorded


@pytest.mark.slow
def test_kills_lose_nothing_and_send_nothing_twice(postgres, receiver, tmp_path):
    """Workers and deliverers SIGKILLed at random: every promise of the store still holds.

    Acknowledged fires are all in the log, every log replays to its snapshot, no headcount
    is over-filled, each notification is accepted once (or failed visibly), no claim stays.
    """
    store = open_store(postgres.child_options(), seed=SEED)
    postgres.stores.append(store)
    store.upgrade()
    added = populate(store)
    chaos = Chaos(postgres, receiver, tmp_path, random.Random(SEED))
    started = time.monotonic()
    try:
        chaos.run(CHAOS_SECONDS)
    finally:
        chaos.stop_all()
    stopped = chaos_now(receiver.origin)
    findings = Findings()
    table = postgres.table("hirepipe_outbox")
    overdue = postgres.execute(
        f"SELECT key FROM {table} WHERE claimed_until > :until", until=stopped + LEASE
    )
    findings.check(not overdue, f"claims beyond their lease: {[row.key for row in overdue]}")
    # the final, clean pass: the receiver accepts everything, every lease and backoff is over
    receiver.clean = True
    final_now = stopped + timedelta(minutes=1)  # past every lease and backoff
    outbox = JournaledOutbox(
        store, Journal(str(tmp_path / "final.jsonl")), receiver.origin, seed=SEED
    )
    sender = WebhookSender(receiver.url, SECRET, timeout=TIMEOUT)
    final_sent = 0
    for _ in range(100):
        report = deliver(outbox, sender, final_now, limit=50)
        final_sent += len(report.sent)
        findings.check(not report.unrecorded, f"the final pass lost claims: {report.unrecorded}")
        if not (report.sent or report.retrying or report.unrecorded):
            break
    findings.summary.update(
        seconds=round(time.monotonic() - started, 1),
        kills={
            "workers": sum(c.killed for c in chaos.children if c.slot.startswith("w")),
            "deliverers": sum(c.killed for c in chaos.children if c.slot.startswith("d")),
        },
        restarts=len(chaos.children) - WORKERS - DELIVERERS,
        crashed=chaos.crashed,
        sent_in_final_pass=final_sent,
    )
    findings.problems += [f"a child crashed: {line}" for line in chaos.crashed]
    check_fires(store, chaos, findings)
    problems = store.verify()
    findings.check(not problems, f"verify() found {problems[:5]} ({len(problems)} in all)")
    check_requisitions(store, findings)
    check_notifications(store, chaos, receiver, findings, final_now=final_now, added=added)
    print("\n" + findings.report())
    assert [] == findings.problems, findings.report()
