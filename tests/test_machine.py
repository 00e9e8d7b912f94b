"""The engine module: ``transitions`` decides, and hirepipe leaves its logger to the host."""

from __future__ import annotations

import logging
import subprocess
import sys

from hirepipe import Pipeline, standard_policy
from hirepipe.testing import make_application, make_requisition


def test_import_leaves_the_transitions_logger_alone():
    """A host's level for the ``transitions`` logger survives hirepipe's engine import."""
    code = (
        "import logging\nlogging.getLogger('transitions').setLevel(logging.DEBUG)\n"
        "from hirepipe import Pipeline, standard_policy\nPipeline(standard_policy())\n"
        "print(logging.getLevelName(logging.getLogger('transitions').level))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": ":".join(sys.path)},
    )
    assert "DEBUG" == result.stdout.strip()


def test_events_fire_with_the_transitions_logger_at_debug(caplog):
    """A host logging ``transitions`` at DEBUG sees its messages, and events still apply."""
    pipeline, requisition = Pipeline(standard_policy()), make_requisition()
    application = make_application(pipeline, requisition)
    with caplog.at_level(logging.DEBUG, logger="transitions"):
        pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
    assert "debrief" == application.stage
    assert any(r.name.startswith("transitions") for r in caplog.records)


def test_a_host_logging_at_info_gets_no_record_per_event(caplog):
    """Stages have no enter or exit callbacks, so ``transitions`` logs nothing at INFO."""
    pipeline, requisition = Pipeline(standard_policy()), make_requisition()
    application = make_application(pipeline, requisition)
    with caplog.at_level(logging.INFO, logger="transitions"):
        pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
        pipeline.fire(application, "withdraw", actor="cand-1", requisition=requisition)
    assert ("withdrawn", []) == (application.stage, caplog.records)
