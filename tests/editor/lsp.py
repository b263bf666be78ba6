"""Drive the real YAML language server (npm ``yaml-language-server``) over LSP on stdio.

:func:`installed_server` installs the version pinned in ``tests/editor/package-lock.json`` into
``.cache/yaml-language-server/`` (``npm ci``: the registry, the lock's integrity hashes) once per
machine; :func:`diagnostics` opens files in it, as an editor would, and returns what it reports.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).parent
REPO = HERE.parents[1]
CACHE = Path(os.environ.get("RECONCILER_TEST_CACHE") or REPO / ".cache") / "yaml-language-server"
SETTINGS: dict[str, Any] = {
    "validate": True,
    "hover": False,
    "completion": False,
    "format": {"enable": False},
    "schemaStore": {"enable": False},  # offline: only the modelines' schemas
    "schemas": {},
}


#: Seconds without a message after which the diagnostics are taken as final (the server may
#: publish a file twice: before and after its schema is loaded).
QUIET = 2.0


@dataclass(frozen=True)
class Diagnostic:
    line: int  # 1-based, as in our own messages
    col: int
    message: str


def installed_server() -> Path:
    """The server's entry point, installed from the lock file on first use (a file lock keeps
    parallel test workers from installing twice)."""
    entry = CACHE / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    lock = HERE / "package-lock.json"
    stamp = CACHE / ".installed"
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w", encoding="utf-8") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (entry.exists() and stamp.exists() and stamp.read_text() == lock.read_text()):
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(HERE / name, CACHE / name)
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=CACHE,
                check=True,
                capture_output=True,
                timeout=600,
            )
            stamp.write_text(lock.read_text())
    return entry


class _Server:
    def __init__(self, entry: Path) -> None:
        self.proc = subprocess.Popen(
            ["node", str(entry), "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()
        self.next_id = 0

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                text = line.decode("ascii").strip()
                if not text:
                    break
                key, _, value = text.partition(":")
                if key.lower() == "content-length":
                    length = int(value)
            if length is not None:
                self.messages.put(json.loads(stream.read(length)))

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> int:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        return self.next_id

    def answer(self, message: dict[str, Any]) -> None:
        """Requests from the server: its settings, or an empty answer."""
        if message["method"] == "workspace/configuration":
            items = message["params"]["items"]
            result = [SETTINGS if i.get("section") == "yaml" else None for i in items]
            self.send({"id": message["id"], "result": result})
        else:
            self.send({"id": message["id"], "result": None})


@contextlib.contextmanager
def _running(entry: Path) -> Iterator[_Server]:
    server = _Server(entry)
    try:
        yield server
    finally:
        server.proc.kill()
        server.proc.wait(timeout=10)


def diagnostics(
    entry: Path, root: Path, files: list[Path], timeout: float = 60
) -> dict[Path, list[Diagnostic]]:
    """What the server reports for each of ``files`` (opened together in workspace ``root``)."""
    found: dict[Path, list[Diagnostic]] = {}
    by_uri = {f.resolve().as_uri(): f for f in files}
    with _running(entry) as server:
        first = server.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.resolve().as_uri(),
                "capabilities": {"workspace": {"configuration": True}},
            },
        )
        deadline = time.monotonic() + timeout
        while True:  # until every file has diagnostics and the server has been quiet a while
            if time.monotonic() > deadline:
                raise TimeoutError(f"no diagnostics for {set(files) - set(found)}")
            try:
                message = server.messages.get(timeout=QUIET)
            except queue.Empty:
                if len(found) == len(files):
                    break
                continue
            if message.get("id") == first and "method" not in message:
                server.send({"method": "initialized", "params": {}})
                server.send(
                    {
                        "method": "workspace/didChangeConfiguration",
                        "params": {"settings": {"yaml": SETTINGS}},
                    }
                )
                for uri, path in by_uri.items():
                    text = path.read_text(encoding="utf-8")
                    document = {"uri": uri, "languageId": "yaml", "version": 1, "text": text}
                    opened = {"textDocument": document}
                    server.send({"method": "textDocument/didOpen", "params": opened})
            elif "method" in message and "id" in message:
                server.answer(message)
            elif message.get("method") == "textDocument/publishDiagnostics":
                params = message["params"]
                if params["uri"] in by_uri:
                    found[by_uri[params["uri"]]] = [
                        Diagnostic(
                            d["range"]["start"]["line"] + 1,
                            d["range"]["start"]["character"] + 1,
                            d["message"],
                        )
                        for d in params["diagnostics"]
                    ]
    return found
