"""Load manifests into a :class:`~reconciler.manifests.desired.DesiredState`.

Read every file, validate every document, then build the typed state.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from reconciler.errors import ManifestError
from reconciler.manifests.assemble import build_desired
from reconciler.manifests.desired import DesiredState
from reconciler.manifests.loader import Limits, load_documents
from reconciler.manifests.validation import validate_documents


def load_desired(paths: Sequence[str | Path], *, limits: Limits | None = None) -> DesiredState:
    """Load, validate and build; raises :class:`ManifestError` with every problem found."""
    with cyclic_gc_paused():
        return _load_desired(paths, limits)


def _load_desired(paths: Sequence[str | Path], limits: Limits | None) -> DesiredState:
    loaded = load_documents(paths, limits=limits)
    problems = list(loaded.problems)
    reported = {p.position for p in problems}
    for problem in validate_documents(loaded.documents):
        if problem.position not in reported:  # e.g. an alias already refused at this spot
            problems.append(problem)
    if problems:
        raise ManifestError(problems)
    return build_desired(loaded.documents)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around work that builds millions of small acyclic
    objects (loading large manifests, diffing large states): full collections over them would
    cost about a third of the time, and reference counting frees them anyway."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
