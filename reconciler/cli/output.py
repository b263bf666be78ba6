"""The one way the CLI writes to stdout and stderr.

Every line a command prints passes :func:`emit`, which

1. masks secrets (:func:`reconciler.bss.redact.scrub`: registered secret keys, tokens and access
   keys, authorization headers), whatever built the message;
2. applies the last escaping pass of the output's medium
   (:func:`reconciler.render.escape.for_output`): no control, bidi or invisible character, and
   nothing a CI runner would act on, reaches a terminal or a log;
3. under GitHub Actions (``GITHUB_ACTIONS=true``), when text goes to the job log rather than to a
   file, frames it with ``::stop-commands::TOKEN`` ... ``::TOKEN::`` (TOKEN random per process),
   so the runner ignores workflow commands inside even if something slipped through.

Renderers escape each third-party value where they interpolate it; this is the backstop.
:func:`emit_pieces` does the same for an output given in pieces (a plan's lines), a block of
lines at a time, and writes exactly what :func:`emit` of the joined pieces writes.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from collections.abc import Iterable
from typing import IO, Any

import click

from reconciler.bss.redact import scrub_blocks
from reconciler.render.escape import for_output

_TOKEN = f"reconciler-{secrets.token_hex(16)}"


def _stream(err: bool) -> IO[Any]:
    return sys.stderr if err else sys.stdout


def _to_job_log(stream: IO[Any]) -> bool:
    """Under GitHub Actions, and the stream is not redirected into a regular file."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return False
    try:
        return not stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):
        return True  # no file behind it: treat as the log


def emit(
    text: str, *, medium: str = "text", err: bool = False, nl: bool = True, colour: bool = False
) -> None:
    """Print ``text`` (a whole rendered output or one message) in ``medium``."""
    emit_pieces((text,), medium=medium, err=err, nl=nl, colour=colour)


def emit_pieces(
    pieces: Iterable[str],
    *,
    medium: str = "text",
    err: bool = False,
    nl: bool = True,
    colour: bool = False,
) -> None:
    """:func:`emit` of ``"".join(pieces)``, the same bytes, without the joined text: secrets are
    masked a block of lines at a time (:func:`reconciler.bss.redact.scrub_blocks`), each block
    escaped (:func:`for_output` of text cut after a newline is the pieces' escapes joined) and
    written. Under GitHub Actions the frame opens before the first block that is not blank."""
    stream = _stream(err)
    framed = medium == "text" and _to_job_log(stream)
    opened = False
    blank: list[str] = []  # blank blocks before the first that is not, while the frame waits
    last = ""
    try:
        for block in scrub_blocks(pieces):
            safe = for_output(block, medium, colour=colour)
            if framed and not opened:
                if not safe.strip():
                    blank.append(safe)
                    continue
                click.echo(f"::stop-commands::{_TOKEN}\n{''.join(blank)}", err=err, nl=False)
                opened, blank = True, []
            click.echo(safe, err=err, nl=False)
            last = safe or last
    finally:  # a renderer failing half-way still ends the frame: later commands work again
        if opened:
            end = "" if last.endswith("\n") else "\n"
            click.echo(f"{end}::{_TOKEN}::", err=err)
    if not opened:
        click.echo("".join(blank), err=err, nl=nl)


def error(text: str) -> None:
    """A message for the person on stderr (``Error: ...``, warnings, notices)."""
    emit(text, err=True)
