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
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from typing import IO, Any

import click

from reconciler.bss.redact import scrub
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
    safe = for_output(scrub(text), medium, colour=colour)
    stream = _stream(err)
    if medium == "text" and safe.strip() and _to_job_log(stream):
        body = safe if safe.endswith("\n") else safe + "\n"
        click.echo(f"::stop-commands::{_TOKEN}\n{body}::{_TOKEN}::", err=err)
        return
    click.echo(safe, err=err, nl=nl)


def error(text: str) -> None:
    """A message for the person on stderr (``Error: ...``, warnings, notices)."""
    emit(text, err=True)
