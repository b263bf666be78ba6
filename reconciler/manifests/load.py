"""Load manifests into a :class:`~reconciler.manifests.desired.DesiredState`.

Read every file, validate every document, then build the typed state: a document at a time as
it is read, and the items of a long list (a manifest's 100,000 customers) one at a time as they
are parsed (:mod:`reconciler.manifests.stream`), so a load never holds all its YAML and all its
desired state at once.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from reconciler.errors import ManifestError, ManifestProblem
from reconciler.manifests.assemble import Assembly
from reconciler.manifests.desired import DesiredState
from reconciler.manifests.document import Document
from reconciler.manifests.loader import Limits, load_documents
from reconciler.manifests.stream import Stream
from reconciler.manifests.validation import DocumentChecks
from reconciler.manifests.yamlstrict import StreamInterrupted
from reconciler.memory import release_free_memory

logger = logging.getLogger(__name__)


def load_desired(
    paths: Sequence[str | Path], *, limits: Limits | None = None, stream: bool = True
) -> DesiredState:
    """Load, validate and build; raises :class:`ManifestError` with every problem found.

    ``stream=False`` reads every document whole: the same result or the same problems, in more
    memory (the tests compare the two)."""
    try:
        with cyclic_gc_paused():
            if stream:
                try:
                    return _load_desired(paths, limits, streamed=True)
                except StreamInterrupted as exc:
                    logger.debug("%s ended inside a streamed list: loading again, whole", exc)
            return _load_desired(paths, limits, streamed=False)
    finally:
        release_free_memory()  # the parser's and validator's buffers, before the read


def _load_desired(
    paths: Sequence[str | Path], limits: Limits | None, *, streamed: bool
) -> DesiredState:
    """A document at a time: validate it (and against the ones before), build it while
    nothing is wrong, and let go of it. Every problem of every file is reported."""
    assembly = Assembly()
    checks = DocumentChecks()
    found: set[ManifestProblem] = set()  # validation problems
    stream = Stream(checks, assembly, found) if streamed else None

    def each(doc: Document, loading: list[ManifestProblem]) -> None:
        found.update(checks.add(doc))
        if stream is not None:
            found.update(stream.take())  # its streamed items'
        if not found and not loading:
            assembly.add(doc)

    loaded = load_documents(paths, limits=limits, on_document=each, sink=stream)
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
