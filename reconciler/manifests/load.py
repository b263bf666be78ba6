"""Load manifests into a :class:`~reconciler.manifests.desired.DesiredState`.

Read every file, validate every document, then build the typed state: a file at a time, so a
manifest of 100,000 customers never holds all its YAML and all its desired state at once.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from reconciler.errors import ManifestError, ManifestProblem
from reconciler.manifests.assemble import Assembly
from reconciler.manifests.desired import DesiredState
from reconciler.manifests.document import Document
from reconciler.manifests.loader import Limits, load_documents
from reconciler.manifests.validation import DocumentChecks


def load_desired(paths: Sequence[str | Path], *, limits: Limits | None = None) -> DesiredState:
    """Load, validate and build; raises :class:`ManifestError` with every problem found."""
    with cyclic_gc_paused():
        return _load_desired(paths, limits)


def _load_desired(paths: Sequence[str | Path], limits: Limits | None) -> DesiredState:
    """A file at a time: read it, validate its documents (and against the ones before), build
    them while nothing is wrong, and let go of them. Every problem of every file is reported."""
    assembly = Assembly()
    checks = DocumentChecks()
    found: set[ManifestProblem] = set()  # validation problems

    def each_file(documents: list[Document], loading: list[ManifestProblem]) -> None:
        for doc in documents:
            found.update(checks.add(doc))
            if not found and not loading:
                assembly.add(doc)

    loaded = load_documents(paths, limits=limits, on_file=each_file)
    problems = list(loaded.problems)
    reported = {p.position for p in problems}
    for problem in sorted(found):
        if problem.position not in reported:  # e.g. an alias already refused at this spot
            problems.append(problem)
    if problems:
        raise ManifestError(problems)
    return assembly.finish()


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
