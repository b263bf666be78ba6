"""Words shared by every rendering and by the kinds' own text: amounts, plurals, escapers.

A leaf below the renderers (it imports only the escapers), so a kind can phrase its values the
way every output does without depending on a renderer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from reconciler.render import escape

#: One escaper of :mod:`reconciler.render.escape`: a value from live data or a manifest to text
#: safe in one medium.
Escaper = Callable[[object], str]

_CURRENCY = re.compile(r"[A-Z]{3}")


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """``1 change``, ``2 changes``; ``plural_noun`` for irregular plurals."""
    word = noun if count == 1 else (plural_noun or noun + "s")
    return f"{count:,} {word}"


def amount(value: Decimal, currency: str = "CNY") -> str:
    """``Decimal('12000')`` -> ``12,000.00 CNY``; a currency that is not an ISO code (it comes
    from the API) is shown as code, safe in every medium."""
    shown = currency if _CURRENCY.fullmatch(currency) else escape.markdown_code(currency)
    return f"{value:,.2f} {shown}"
