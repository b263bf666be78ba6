"""Our former terminal status line (reconciler/render/progress.py before rich drew it), kept so that
bench/libraries.py can still measure it side by side. Not used by the reconciler.

The whole status text, rewritten in place with carriage return and erase-to-end-of-line, at its
full length whatever the terminal's width; everything else is today's :class:`TtyProgress`.
"""

from __future__ import annotations

from reconciler.plan.progress import ReadCounters, status_text
from reconciler.render import progress


class TtyProgress(progress.TtyProgress):
    def update(self, counters: ReadCounters) -> None:
        now = self._now()
        if now - self._drawn < self._interval:
            return
        self._drawn = now
        self._stream.write("\r\x1b[K" + status_text(counters))
        self._stream.flush()
        self._dirty = True
