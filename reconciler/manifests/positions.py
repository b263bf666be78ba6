"""Several positions of one manifest entry in one plain integer.

A manifest of 100,000 customers holds half a million positions; its entries keep theirs packed,
one integer each (:func:`pack`), and make position objects only when asked (:func:`unpack`).
A :class:`~reconciler.errors.SourcePosition` is the integer ``file number << 64 | line << 32 |
col``; packed:

* *close* (the last bit 1), when the first position is given and the others follow it closely
  (at most 15 lines below, columns below 128: the positions inside one entry): from the high
  bits, the file number, the first position's line (20 bits) and column (7), then for each
  other position a bit saying it is given, its line below the first's (4 bits) and its column
  (7). Three positions fit in 60 bits (an integer of 32 bytes) while the file number is below
  256;
* *wide* (the last bit 0) otherwise: the file number, then 64 bits a position (0: not given).
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.errors import SourcePosition

__all__ = ["pack", "unpack"]

_FIELD = 1 << 32
_WIDE = _FIELD * _FIELD
_LINE, _COL, _BELOW = 1 << 20, 1 << 7, 1 << 4
_NEXT = 12  # bits of each close position after the first


def pack(positions: Sequence[SourcePosition | None]) -> int:
    """``positions`` (``None`` for one not given), all in one file, as one integer."""
    close = _pack_close(positions)
    if close is not None:
        return close
    files = {int(p) >> 64 for p in positions if p is not None}
    if len(files) > 1:
        raise ValueError("positions packed together must be in one file")
    packed = files.pop() if files else 0
    for pos in positions:
        packed = (packed << 64) | (0 if pos is None else int(pos) % _WIDE)
    return packed << 1


def unpack(packed: int, index: int, count: int) -> SourcePosition | None:
    """Position ``index`` of the ``count`` :func:`pack` packed in ``packed``."""
    if packed & 1:
        return _unpack_close(packed >> 1, index, count)
    packed >>= 1
    part = (packed >> (64 * (count - 1 - index))) % _WIDE
    if not part:
        return None
    return _position(packed >> (64 * count), part)


def _pack_close(positions: Sequence[SourcePosition | None]) -> int | None:
    first = positions[0] if positions else None
    if first is None:
        return None
    number, line_col = divmod(int(first), _WIDE)
    line, col = divmod(line_col, _FIELD)
    if line >= _LINE or col >= _COL:
        return None
    packed = (number * _LINE + line) * _COL + col
    for pos in positions[1:]:
        packed <<= _NEXT
        if pos is not None:
            # lines below the first (another file: far more), and its column
            below, at = divmod(int(pos) - number * _WIDE - line * _FIELD, _FIELD)
            if not (0 <= below < _BELOW and at < _COL):
                return None
            packed |= (_BELOW + below) * _COL + at
    return packed << 1 | 1


def _unpack_close(packed: int, index: int, count: int) -> SourcePosition | None:
    head = packed >> (_NEXT * (count - 1))
    number, line, col = head // (_COL * _LINE), (head // _COL) % _LINE, head % _COL
    if index:
        part = (packed >> (_NEXT * (count - 1 - index))) % (1 << _NEXT)
        if part < _BELOW * _COL:
            return None  # not given
        line, col = line + (part // _COL) % _BELOW, part % _COL
    return _position(number, line * _FIELD + col)


def _position(number: int, line_col: int) -> SourcePosition:
    return int.__new__(SourcePosition, number * _WIDE + line_col)
