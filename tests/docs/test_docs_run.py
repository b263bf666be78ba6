"""The README and docs run as written (docs/architecture.md, "Documentation that runs").

Every fenced block tagged ``sh`` (or ``bash``, ``shell``) in README.md and docs/*.md is run,
file by file (README first), in order, as one terminal session per file: in a fresh copy of the
repository, against a fresh embedded emulator. The convention:

* a block whose first line is ``# not run: <why>`` is skipped (real credentials, CI only, ...);
* every command must exit 0, unless its line ends with ``# exit N`` (optionally ``: why``);
* a command whose line ends with ``# in another terminal`` runs in the background; the session
  goes on once it has printed its first line, and stops it at the end of its block;
* an untagged block that looks like shell (a line starting with ``reconciler``, ``make``,
  ``cp``, ...) is an error: tag it ``sh`` (and mark it ``# not run: ...`` if it cannot run)
  or ``text``.

The served emulator's port (8765 in the docs) is replaced by a free one, so parallel runs on one
machine do not collide.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "shell"}
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+)(?P<info>[^`]*)$")
NOT_RUN = re.compile(r"^# not run: \S")
EXIT = re.compile(r"#\s*exit (\d+)\b[^#]*$")
BACKGROUND = re.compile(r"#\s*in another terminal\s*$")
LOOKS_LIKE_SHELL = re.compile(r"^(reconciler|make|cp|mkdir|export|git|cd)( |$)")
#: Commands that would replace the virtual environment the runs share (the copy's ``.venv`` is
#: a link to the real one): a block running them must be marked ``# not run:``.
SHARED_VENV = re.compile(r"\bmake\b[^#\n]*\b(clean|lock|lock-upgrade)\b|\bpython3? -m venv\b")
PORT = "8765"
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".cache", ".reconciler", "__pycache__", ".*_cache", "*.egg-info"
)


@dataclass(frozen=True)
class Block:
    file: Path
    line: int  # of the opening fence
    info: str
    lines: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.file.relative_to(REPO)}:{self.line}"

    @property
    def shell(self) -> bool:
        return self.info.split()[0] in SHELL if self.info.split() else False

    @property
    def runs(self) -> bool:
        return self.shell and not (self.lines and NOT_RUN.match(self.lines[0]))


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, dedented to its fence."""
    found: list[Block] = []
    opened: tuple[int, str, str, int] | None = None  # line, fence, info, indent
    body: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fence = FENCE.match(line)
        if opened is None:
            if fence:
                opened = (number, fence["fence"], fence["info"].strip(), len(fence["indent"]))
                body = []
        elif fence and fence["fence"] == opened[1] and not fence["info"].strip():
            found.append(Block(path, opened[0], opened[2], tuple(body)))
            opened = None
        else:
            body.append(line[opened[3] :] if line[: opened[3]].isspace() else line.lstrip())
    assert opened is None, f"{path}:{opened and opened[0]}: a fence is never closed"
    return found


def commands(block: Block) -> list[tuple[int, list[str]]]:
    """Logical command lines (continuations joined), each with its line in the file."""
    out: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for offset, line in enumerate(block.lines, start=1):
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if not current:
            start = block.line + offset
        current.append(line)
        if not line.rstrip().endswith("\\"):
            out.append((start, current))
            current = []
    assert not current, f"{block.where}: a continued line never ends"
    return out


STOP_BACKGROUND = 'for p in "${bgpids[@]}"; do kill "$p"; wait "$p" 2>/dev/null; done; bgpids=()'


def session(path: Path, port: str, base: Path = REPO) -> str:
    """One bash script running every runnable block of ``path``, checking each exit code."""
    script = ["set -u", "BG=$(mktemp -d)", "bgpids=()"]
    for block in (b for b in blocks(path) if b.runs):
        for line, parts in commands(block):
            text = "\n".join(parts).replace(PORT, port)
            where = f"{block.file.relative_to(base)}:{line}"
            script.append(f"echo '+ {where}' >&2")
            if BACKGROUND.search(parts[-1]):
                script += [
                    f'( {text}\n) > "$BG/{line}.out" 2>&1 &',
                    "bgpids+=($!)",
                    f'for _ in $(seq 300); do [ -s "$BG/{line}.out" ] && break; sleep 0.1; done',
                    f'[ -s "$BG/{line}.out" ] || {{ echo "DOCS: {where}: nothing printed" >&2; '
                    "exit 97; }",
                ]
                continue
            want = EXIT.search(parts[-1])
            code = int(want.group(1)) if want else 0
            script += [
                text,
                f'rc=$?; [ "$rc" -eq {code} ] || '
                f'{{ echo "DOCS: {where}: exit $rc, the text promises {code}" >&2; exit 97; }}',
            ]
        script.append(
            'for p in "${bgpids[@]}"; do kill "$p" 2>/dev/null; wait "$p"; done; bgpids=()'
        )
    return "\n".join(script) + "\n"


def free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def environment(root: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RECONCILER_", "HUAWEICLOUD_", "VIRTUAL_ENV")) and k != "NO_COLOR"
    }
    (root / "home").mkdir()
    env.update(
        HOME=str(root / "home"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        RECONCILER_STATE_DIR=str(root / "work" / ".reconciler"),
        RECONCILER_RATE="500",  # the embedded emulator enforces the same rate
        NO_COLOR="1",
    )
    return env


RUNNABLE = [p for p in DOCS if any(b.runs for b in blocks(p))]


@pytest.mark.slow
@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: str(p.relative_to(REPO)))
def test_the_docs_run_as_written(path: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(REPO, work, ignore=COPY_IGNORE, symlinks=True)
    (work / ".venv").symlink_to(REPO / ".venv")
    # The virtual environment exists: `make` in the copy must never reinstall it (through the
    # link, that would clear the real one), so what its stamp depends on is made older than it.
    # (``MAKEFLAGS="-o ..."`` does not do it: GNU make does not take -o from MAKEFLAGS.)
    for name in ("pyproject.toml", "requirements.lock", "requirements-dev.lock"):
        os.utime(work / name, (0, 0))
    done = subprocess.run(
        ["bash", "-c", session(path, free_port())],
        cwd=work,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, (done.stderr[-4000:], done.stdout[-3000:])


def test_every_shell_block_is_tagged_and_either_runs_or_says_why_not() -> None:
    problems = []
    for path in DOCS:
        for block in blocks(path):
            if not block.info and any(LOOKS_LIKE_SHELL.match(ln) for ln in block.lines):
                problems.append(f"{block.where}: shell without a tag: tag it ```sh (or ```text)")
            if block.shell and not block.runs and not NOT_RUN.match(block.lines[0]):
                problems.append(f"{block.where}: empty shell block")
            if block.runs and any(SHARED_VENV.search(ln) for ln in block.lines):
                problems.append(f"{block.where}: would replace the shared .venv: # not run: it")
    assert not problems, "\n".join(problems)
    assert REPO / "README.md" in RUNNABLE, "the README walkthrough must run"


def test_the_runner_checks_what_it_promises(tmp_path: Path) -> None:
    """The runner itself: `# exit N` is honoured, a broken promise fails the session at its
    line, `# not run:` blocks are skipped."""
    doc = tmp_path / "doc.md"
    doc.write_text(
        "```sh\ntrue\nfalse   # exit 1: as promised\n```\n\n"
        "```sh\n# not run: it would fail\nfalse\n```\n\n"
        "```sh\necho one \\\n  two\nsh -c 'exit 3'   # exit 0\n```\n",
        encoding="utf-8",
    )
    found = blocks(doc)
    assert [(b.line, b.runs) for b in found] == [(1, True), (6, False), (11, True)]
    assert [line for line, _ in commands(found[2])] == [12, 14]
    script = session(doc, free_port(), base=tmp_path)
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 97, done.stderr
    assert "DOCS: doc.md:14: exit 3, the text promises 0" in done.stderr
    assert "+ doc.md:3" in done.stderr and "doc.md:7" not in done.stderr
