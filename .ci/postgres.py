"""Run a command with a PostgreSQL server for the store's tests, or fail at once saying why.

    python3 .ci/postgres.py -- make pytest

The server is ``HIREPIPE_TEST_POSTGRES_URL`` (default: trust authentication on 127.0.0.1:5432,
database ``test``). When it answers, the command runs as it is. When it does not and
PostgreSQL's programs are installed (``initdb``, ``pg_ctl``: ``/usr/lib/postgresql/*/bin``, the
``PATH``, or ``HIREPIPE_POSTGRES_BINDIR``), a throwaway server is started in a temporary
directory on a free port for the command's run, then stopped and removed. Otherwise it exits
with status 2 within seconds, printing the command that starts one. Standard library only: it
runs before the project's virtualenv exists.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HOW_TO_START = """\
Start one, then run the command again:
  Debian/Ubuntu: sudo apt-get install postgresql && sudo pg_ctlcluster 15 main start
                 sudo -u postgres createdb test   (and trust authentication for 127.0.0.1)
  Docker:        docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust \\
                     -e POSTGRES_DB=test postgres:16
or point HIREPIPE_TEST_POSTGRES_URL at a server of yours, e.g.
  HIREPIPE_TEST_POSTGRES_URL=postgresql+psycopg://user:password@host:5432/test
With PostgreSQL's programs installed (initdb, pg_ctl), this script starts a throwaway server
itself."""
_PROTOCOL_3 = 196608
_SERVICE_USER = "postgres"


def probe(url: str, *, timeout: float = 3.0) -> str | None:
    """Return ``None`` when a PostgreSQL server answers at ``url``, else what went wrong.

    Speaks the start of the protocol: a server that accepts the user and database, or asks
    for a password (the tests bring their own), answers; a refusal is reported in its words.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    user = unquote(parts.username or "postgres")
    database = parts.path.lstrip("/") or user
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.settimeout(timeout)
            pairs = b"".join(
                f"{k}\0{v}\0".encode() for k, v in (("user", user), ("database", database))
            )
            body = struct.pack("!i", _PROTOCOL_3) + pairs + b"\0"
            connection.sendall(struct.pack("!i", len(body) + 4) + body)
            while True:  # authentication, then parameters, until ready or refused
                kind = _read(connection, 1)
                if kind not in b"RZESKN":
                    return f"something that is not PostgreSQL answers at {host}:{port}"
                length = struct.unpack("!i", _read(connection, 4))[0]
                payload = _read(connection, length - 4)
                if kind == b"R" and payload[:4] == b"\0\0\0\0":
                    continue  # authenticated: the database is checked next
                if kind in (b"R", b"Z"):  # asks for a password, or ready for queries
                    connection.sendall(b"X\0\0\0\4")
                    return None
                if kind == b"E":
                    fields = {
                        field[:1]: field[1:].decode(errors="replace")
                        for field in payload.split(b"\0")
                        if field
                    }
                    return fields.get(b"M", "refused")
    except OSError as exc:
        return f"nothing answers at {host}:{port} ({exc.strerror or exc})"
    except struct.error:
        return f"something that is not PostgreSQL answers at {host}:{port}"


def _read(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise OSError("the server closed the connection")
        data += chunk
    return data


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, newest version first; ``None`` if none."""
    override = os.environ.get("HIREPIPE_POSTGRES_BINDIR")
    if override is not None:
        candidates = [override] if override else []
    else:
        versions = glob.glob("/usr/lib/postgresql/*/bin")
        versions.sort(
            key=lambda d: int(Path(d).parent.name) if Path(d).parent.name.isdigit() else 0
        )
        on_path = shutil.which("initdb")
        candidates = [
            *reversed(versions),
            *([str(Path(on_path).resolve().parent)] if on_path else []),
        ]
    for directory in candidates:
        if all(
            os.access(Path(directory, name), os.X_OK) for name in ("initdb", "pg_ctl", "createdb")
        ):
            return Path(directory)
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return int(probe_socket.getsockname()[1])


def throwaway_server(bindir: Path, command: list[str]) -> int:
    """Run ``command`` with a new server of ``bindir``'s programs; stop and remove it after."""
    # PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user
    as_user: dict[str, Any] = {}
    root = tempfile.mkdtemp(prefix="hirepipe-postgres-")
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(_SERVICE_USER)
        except KeyError:
            shutil.rmtree(root)
            print(
                f"running as root and there is no {_SERVICE_USER!r} user to run a server",
                file=sys.stderr,
            )
            return 2
        os.chown(root, account.pw_uid, account.pw_gid)
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    data, port = Path(root, "data"), free_port()

    def program(name: str, *arguments: object, check: bool = True) -> None:
        subprocess.run(
            [bindir / name, *map(str, arguments)],
            **as_user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=check,
        )

    # a stopped `make` (SIGTERM) still stops and removes the server, as Ctrl-C does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    started = False
    try:
        program("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        program("pg_ctl", "-D", data, "-l", Path(root, "server.log"), "-o", options, "-w", "start")
        started = True
        program("createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "test")
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
        print(f"started a throwaway PostgreSQL server in {root}: {url}", file=sys.stderr)
        environment = {**os.environ, "HIREPIPE_TEST_POSTGRES_URL": url}
        return subprocess.run(command, env=environment, check=False).returncode
    except subprocess.CalledProcessError as exc:
        output = (exc.stderr or b"").decode(errors="replace")
        print(f"could not start a throwaway server ({exc.cmd[0]}):\n{output}", file=sys.stderr)
        return 2
    finally:
        if started:
            program("pg_ctl", "-D", data, "-m", "immediate", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)


def main(arguments: list[str]) -> int:
    """Check the server, start one if it can, run the command; return its exit status."""
    command = arguments[1:] if arguments[:1] == ["--"] else arguments
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    url = os.environ.get("HIREPIPE_TEST_POSTGRES_URL", DEFAULT_URL)
    problem = probe(url)
    if problem is None:
        return subprocess.run(command, check=False).returncode
    bindir = find_bindir()
    if bindir is not None:
        print(f"no PostgreSQL server at {url}: {problem}", file=sys.stderr)
        return throwaway_server(bindir, command)
    print(
        f"The store's tests need PostgreSQL at {url}: {problem}.\n{HOW_TO_START}",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
