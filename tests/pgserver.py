"""A throwaway PostgreSQL server for the shared-journal tests, on a unix socket in a temp dir.

``.ci/run`` starts one the same way and exports ``RECONCILER_TEST_PG_URL``; without that
variable the test fixture starts its own (one per pytest-xdist worker) and stops it at the end.
Each test gets a database of its own. As root, ``initdb`` refuses to run, so the server runs as
the ``postgres`` user (``runuser -u postgres --``) in a directory that user owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

URL_ENV = "RECONCILER_TEST_PG_URL"
TOOLS = ("initdb", "pg_ctl", "postgres")


def find_bin() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None when they are not installed."""
    found = [shutil.which(t) for t in TOOLS]
    if all(found):
        return Path(str(found[0])).resolve().parent
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if all((folder / t).exists() for t in TOOLS):
            return folder
    return None


def _as_server_user(root: Path) -> list[str]:
    """The command prefix that runs a tool as the server's owner (``postgres`` under root)."""
    if os.geteuid() != 0:
        return []
    user = pwd.getpwnam("postgres")
    os.chown(root, user.pw_uid, user.pw_gid)
    return ["runuser", "-u", "postgres", "--"]


def start(binaries: Path) -> tuple[Path, str]:
    """Start a server in a new temp dir; returns the dir and the URL of its ``postgres`` db."""
    root = Path(tempfile.mkdtemp(prefix="reconciler-pg-"))
    root.chmod(0o755)
    prefix = _as_server_user(root)
    data = root / "data"
    _run(
        [*prefix, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
         "--no-sync", "-E", "UTF8"],
    )  # fmt: skip
    options = f"-k {root} -c listen_addresses='' -c fsync=off -c max_connections=50"
    _run(
        [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-o", options,
         "-l", str(root / "server.log"), "-w", "start"],
    )  # fmt: skip
    return root, f"postgresql://postgres@/postgres?host={quote(str(root), safe='/')}"


def _run(command: list[str]) -> None:
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[-1]} failed: {done.stderr.decode(errors='replace')}")


def stop(binaries: Path, root: Path) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(
        [*prefix, str(binaries / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    shutil.rmtree(root, ignore_errors=True)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server for one test; dropped afterwards."""
    import psycopg

    name = f"journal_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
