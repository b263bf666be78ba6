"""Memory measurements for the benchmark: process RSS and the bytes an object graph holds."""

from __future__ import annotations

import gc
import resource
import sys
import types
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

_LEAVES = frozenset({str, int, float, bool, bytes, Decimal, type(None)})
_SKIP = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def rss_bytes() -> int:
    """The process's resident set size now."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize()


def peak_rss_bytes() -> int:
    """The process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def deep_size(roots: Iterable[object]) -> int:
    """Bytes held by everything reachable from ``roots`` (each object once; classes, modules
    and functions excluded), as ``sys.getsizeof`` counts them (GC headers included)."""
    seen: set[int] = set()
    stack = list(roots)
    total = 0
    get_referents = gc.get_referents
    getsizeof = sys.getsizeof
    leaves = _LEAVES
    while stack:
        obj = stack.pop()
        ident = id(obj)
        if ident in seen or isinstance(obj, _SKIP):
            continue
        seen.add(ident)
        total += getsizeof(obj)
        for ref in get_referents(obj):
            if type(ref) in leaves:  # nothing inside: count it here instead of stacking it
                ident = id(ref)
                if ident not in seen:
                    seen.add(ident)
                    total += getsizeof(ref)
            else:
                stack.append(ref)
    return total
