"""A fast yes/no check of a document against our JSON Schemas, for large manifests.

``jsonschema`` spends about 80 µs on each list entry, so 100,000 customers took seconds. The check
here is jsonschema-rs (a Rust implementation of JSON Schema 2020-12), at about 0.3 µs per entry. It
is only ever trusted to say *valid*: when it says *not valid*, or cannot read a value (a
:class:`~reconciler.manifests.yamlstrict.PlainNumber`, which validation always reports), the caller
runs ``jsonschema`` for the real verdict and the messages. A test checks that both agree on every
manifest in the test corpus and on every one-value mutation of it.

This module used to compile the subset of JSON Schema our schemas use into Python closures
(172 lines, about 7 µs per entry, 20 times slower); ``bench/libraries.py`` still measures both
(the old compiler is in ``bench/replaced/``), and docs/architecture.md has the figures.

Regular expressions follow ECMA-262 as JSON Schema specifies: a final ``$`` matches only at the
very end, not before a trailing newline as Python's ``$`` does. jsonschema-rs's regex engine
already means that; :func:`ecma_regex` gives the ``jsonschema`` slow path the same meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import jsonschema_rs

__all__ = ["Check", "compile_schema", "ecma_regex"]

Check = Callable[[object], bool]


@cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled so that a final unescaped ``$`` means end of string."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def compile_schema(root: Mapping[str, Any]) -> Check:
    """A predicate that is true only for instances ``root`` certainly accepts."""
    validator = jsonschema_rs.validator_for(dict(root))

    def check(value: object) -> bool:
        try:
            return validator.is_valid(value)
        except ValueError:  # a Python type it does not read (PlainNumber): jsonschema decides
            return False

    return check
