"""A child process for the durable-slate tests: fire through a stored slate, or stop mid-fill.

Run as ``python -m tests.store.slate_child '<json>'`` from the repository's root. Options:
``url``, ``schema``, ``application``, ``event``, ``actor``, and ``pause_at`` (the number of
the event, counted from 1, at whose hook the child tells the parent and waits to be killed).
It prints one line: ``fired <events>``, ``refused <error>``, or ``paused``.
"""

from __future__ import annotations

import json
import sys

from hirepipe import HirepipeError, Pipeline, standard_policy
from hirepipe.clock import ManualClock
from hirepipe.store import Store
from tests.store.helpers import START


def main(options: dict[str, object]) -> None:
    pipeline = Pipeline(standard_policy(), clock=ManualClock(START))  # the tests' day
    store = Store(str(options["url"]), pipeline, schema=options.get("schema"))
    pause_at = options.get("pause_at")
    seen = []

    def pause(fired: object) -> None:
        seen.append(fired)
        if len(seen) == pause_at:
            print("paused", flush=True)
            sys.stdin.readline()  # the parent kills this process; it never writes

    pipeline.hooks.append(pause)
    try:
        fired = store.slate_fire(
            str(options["application"]), str(options["event"]), actor=str(options["actor"])
        )
    except HirepipeError as exc:
        print(f"refused {type(exc).__name__}", flush=True)
    else:
        print("fired " + ",".join(f.record.event for f in fired), flush=True)
    finally:
        store.close()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
