"""Where the journal lives: one SQLite file (the default) or a shared PostgreSQL database.

The journal, the lease and settlement speak to a :class:`Store` only, so they do not care which
backend holds the rows. Both backends take the same SQL: ``?`` placeholders, ``ON CONFLICT``
upserts, ``DOUBLE PRECISION`` for times, nothing else dialect-specific. A write transaction is
exclusive in both: SQLite's ``BEGIN IMMEDIATE`` takes the file's write lock, PostgreSQL takes one
transaction-level advisory lock, so sequence numbers, lease checks and fencing marks are
serialised the same way.

::

    journal location         backend
    ---------------------    ----------------------------------------------------------------
    a path (default          SQLite, WAL, synchronous=FULL, the file created with mode 0600
    .reconciler/journal.sqlite)
    postgresql://...         PostgreSQL through psycopg 3, for runs on several machines
    postgres://...

The location shown in messages never carries a password (:func:`redact_url`).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from reconciler.connect import state_dir
from reconciler.errors import ConfigError

#: The advisory lock every PostgreSQL write transaction takes (an arbitrary, fixed 64-bit key).
PG_LOCK_KEY = 0x70725F6A726E6C  # "pr_jrnl"
URL_SCHEMES = ("postgresql://", "postgres://")
BUSY_SECONDS = 10


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Tx(Protocol):
    """An open write transaction."""

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor: ...


def is_url(location: str | os.PathLike[str]) -> bool:
    return isinstance(location, str) and location.startswith(URL_SCHEMES)


def redact_url(url: str) -> str:
    """``url`` without its password (``postgresql://user:***@host/db``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def dicts(cursor: Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class Store(ABC):
    """A connection to the journal's database."""

    #: For messages: a path, or a URL without password.
    location: str
    dialect: str

    @abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager[Tx]:
        """An exclusive write transaction, durable when the block ends."""

    @abstractmethod
    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read outside any transaction."""

    @abstractmethod
    def records(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """A read outside any transaction, each row as a dict by column name."""

    @abstractmethod
    def columns(self, table: str) -> list[str]:
        """The table's column names, in order (empty if it does not exist)."""

    def server_time(self, db: Tx) -> float | None:
        """The database server's clock (seconds since the epoch) inside ``db``, when the database
        has a clock of its own that every client shares (PostgreSQL); ``None`` for an embedded
        database (SQLite: the clients are this machine's processes, with this machine's clock)."""
        return None

    @abstractmethod
    def reopen(self) -> Store:
        """A second, independent connection to the same journal (for the heartbeat thread)."""

    @abstractmethod
    def close(self) -> None: ...


class _SqliteTx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        return self._db.execute(sql, tuple(args))


class SqliteStore(Store):
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        _create_private(path)
        try:
            self._db = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_SECONDS)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        except sqlite3.DatabaseError as err:
            raise ConfigError(f"{path}: not a usable apply journal ({err})") from err

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            raise ConfigError(
                f"the apply journal {self.path} stayed locked by another process for "
                f"{BUSY_SECONDS} s ({err}): an apply paused or stuck inside a journal write. "
                "Nothing was written; run again once that process has gone on or is gone"
            ) from None
        try:
            yield _SqliteTx(self._db)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._db.execute(sql, tuple(args)).fetchall())

    def records(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return dicts(self._db.execute(sql, tuple(args)))

    def columns(self, table: str) -> list[str]:
        return [str(r[1]) for r in self._db.execute(f"PRAGMA table_info({table})")]

    def reopen(self) -> Store:
        return SqliteStore(self.path)

    def close(self) -> None:
        self._db.close()


class _PgTx:
    """psycopg with ``?`` placeholders (our SQL has no ``%`` of its own)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        cursor: Cursor = self._conn.execute(sql.replace("?", "%s"), tuple(args))
        return cursor


class PostgresStore(Store):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = redact_url(url)
        try:
            import psycopg
        except ImportError as err:  # pragma: no cover - psycopg is a dependency
            raise ConfigError(f"a PostgreSQL journal needs psycopg 3 ({err})") from err
        self._errors = psycopg.Error
        try:
            self._conn = psycopg.connect(
                url,
                autocommit=True,
                connect_timeout=BUSY_SECONDS,
                options=f"-c lock_timeout={BUSY_SECONDS * 1000}",
            )
        except psycopg.Error as err:
            raise ConfigError(
                f"cannot open the apply journal at {self.location}: {self._say(err)}"
            ) from None

    def _say(self, err: BaseException) -> str:
        """psycopg's message, one line, with the URL's password (if any) blanked out."""
        text = " ".join(str(err).split())
        password = urlsplit(self.url).password
        return text.replace(password, "***") if password else text

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        try:
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))
                yield _PgTx(self._conn)
        except self._errors as err:
            raise ConfigError(f"apply journal {self.location}: {self._say(err)}") from None

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._read(sql, args).fetchall())

    def records(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return dicts(self._read(sql, args))

    def _read(self, sql: str, args: Sequence[Any]) -> Cursor:
        try:
            return _PgTx(self._conn).execute(sql, args)
        except self._errors as err:
            raise ConfigError(f"apply journal {self.location}: {self._say(err)}") from None

    def server_time(self, db: Tx) -> float | None:
        # clock_timestamp(), not now(): now() is when the transaction began, before any wait for
        # the advisory lock.
        row = db.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8").fetchone()
        return float(row[0])

    def columns(self, table: str) -> list[str]:
        rows = self.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
            " AND table_schema = current_schema() ORDER BY ordinal_position",
            (table,),
        )
        return [str(r[0]) for r in rows]

    def reopen(self) -> Store:
        return PostgresStore(self.url)

    def close(self) -> None:
        self._conn.close()


JOURNAL_FILE = "journal.sqlite"
URL_ENV = "RECONCILER_JOURNAL_URL"
FILE_ENV = "RECONCILER_JOURNAL"


def journal_location(option: str | os.PathLike[str] | None = None) -> str | Path:
    """``--journal``, else ``RECONCILER_JOURNAL_URL``, else ``RECONCILER_JOURNAL``, else the state
    dir's journal.sqlite. A ``postgresql://`` URL stays a string; anything else is a path."""
    url = os.environ.get(URL_ENV) or None
    if option is None and url is not None and not is_url(url):
        raise ConfigError(f"{URL_ENV} must be a postgresql://... URL")
    chosen = option or url or os.environ.get(FILE_ENV) or None
    if chosen is None:
        return state_dir() / JOURNAL_FILE
    return str(chosen) if is_url(str(chosen)) else Path(chosen)


def open_store(location: str | os.PathLike[str]) -> Store:
    """A PostgreSQL store for a ``postgresql://`` URL, else the SQLite file at that path."""
    if is_url(location):
        return PostgresStore(str(location))
    text = str(location)
    if re.match(r"^[a-z][a-z0-9+.-]*://", text):
        raise ConfigError(
            f"journal {redact_url(text)!r}: only postgresql:// URLs or a file path are supported"
        )
    return SqliteStore(Path(location))


def _create_private(path: Path) -> None:
    """Create the file (and its folder) readable by the owner only, before SQLite opens it.

    An existing file is never opened here: closing any descriptor of a file drops every POSIX
    lock this process holds on it, including the SQLite locks of a connection already open on
    it (the heartbeat thread opens a second connection), and another process could then
    checkpoint the WAL under that connection and lose its writes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        except FileExistsError:
            pass  # created meanwhile by another process
        else:
            os.close(fd)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
