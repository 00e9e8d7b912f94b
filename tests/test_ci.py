"""``make test``'s first step, .ci/postgres.py: a server that answers, a throwaway one, or why not.

The script speaks the start of PostgreSQL's protocol, so it runs with the system's Python
before the project's virtualenv exists.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.helpers import POSTGRES_URL

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "postgres.py"
SHOW_URL = [sys.executable, "-c", "import os; print(os.environ['HIREPIPE_TEST_POSTGRES_URL'])"]


def run_script(*command: str, url: str, bindir: str | None = ""):
    """Run the script before ``command``, the server at ``url``; ``bindir=None``: look for one."""
    environment = {**os.environ, "HIREPIPE_TEST_POSTGRES_URL": url}
    environment.pop("HIREPIPE_POSTGRES_BINDIR", None)
    if bindir is not None:
        environment["HIREPIPE_POSTGRES_BINDIR"] = bindir
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--", *command],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=120,
    )


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def not_postgres() -> Iterator[int]:
    """A port where something that is not PostgreSQL answers (an HTTP-like reply)."""
    server = socket.create_server(("127.0.0.1", 0))
    port = int(server.getsockname()[1])

    def answer() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(1024)
            connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield port
    server.close()
    thread.join(timeout=5)


def test_a_server_that_answers_runs_the_command_as_it_is():
    """With the test server up, the command runs with the URL it was given, and its status."""
    result = run_script(*SHOW_URL, url=POSTGRES_URL)
    assert (0, POSTGRES_URL) == (result.returncode, result.stdout.strip())
    failing = run_script(sys.executable, "-c", "raise SystemExit(3)", url=POSTGRES_URL)
    assert 3 == failing.returncode


def test_no_server_and_no_programs_stops_with_how_to_start_one(closed_port):
    """Nothing listening and no PostgreSQL programs: exit 2 with the commands to start one."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port}/test"
    result = run_script("false", url=url)
    assert 2 == result.returncode
    assert "" == result.stdout
    assert f"The store's tests need PostgreSQL at {url}: nothing answers" in result.stderr
    assert "pg_ctlcluster 15 main start" in result.stderr
    assert "HIREPIPE_TEST_POSTGRES_URL=" in result.stderr


def test_a_database_that_does_not_exist_is_named():
    """The server's own refusal is reported: here, the database it does not have."""
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_database_hp"
    result = run_script("false", url=url)
    assert 2 == result.returncode
    assert 'database "no_such_database_hp" does not exist' in result.stderr


def test_something_else_on_the_port_is_not_taken_for_postgres(not_postgres):
    """A service that is not PostgreSQL on the port is said to be something else."""
    result = run_script("false", url=f"postgresql://postgres@127.0.0.1:{not_postgres}/test")
    assert 2 == result.returncode
    assert "something that is not PostgreSQL answers" in result.stderr


@pytest.mark.slow
def test_with_the_programs_installed_a_throwaway_server_serves_the_run(closed_port, tmp_path):
    """No server, PostgreSQL's programs found: the command runs against a server of its own.

    The server takes queries during the run and is gone afterwards, directory and all.
    """
    check = (
        "import os, sqlalchemy as sa\n"
        "engine = sa.create_engine(os.environ['HIREPIPE_TEST_POSTGRES_URL'])\n"
        "with engine.connect() as connection:\n"
        "    print(connection.execute(sa.text('SELECT current_database()')).scalar())\n"
    )
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port}/test"
    result = run_script(sys.executable, "-c", check, url=url, bindir=None)
    assert (0, "test") == (result.returncode, result.stdout.strip()), result.stderr
    (line,) = [n for n in result.stderr.splitlines() if n.startswith("started a throwaway")]
    directory = Path(line.split(" in ", 1)[1].split(":", 1)[0])
    port = int(line.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
    assert not directory.exists()
