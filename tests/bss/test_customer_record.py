"""A customer record keeps its rarely used fields in one tuple (64 bytes a kept record, not 96):
it still reads, compares, copies and refuses changes as the frozen dataclass it replaced."""

from __future__ import annotations

import copy
import pickle
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.bss.models import Customer

FIELD = st.none() | st.text(max_size=8)


@given(st.text(max_size=8), st.lists(FIELD, min_size=7, max_size=7), st.lists(FIELD, max_size=8))
def test_it_is_its_fields(cid: str, rest: list[str | None], changes: list[str | None]) -> None:
    values = (cid, *rest)
    record = Customer(cid, *rest)
    assert tuple(getattr(record, f) for f in Customer.FIELDS) == values
    assert record == Customer(cid, *rest) and hash(record) == hash(Customer(cid, *rest))
    assert copy.deepcopy(record) == record == pickle.loads(pickle.dumps(record))
    edits = dict(zip(Customer.FIELDS[1:], changes, strict=False))
    changed = record.replace(**edits)
    assert all(getattr(changed, f) == edits.get(f, getattr(record, f)) for f in Customer.FIELDS)
    assert repr(record).startswith(f"Customer(customer_id={cid!r}, account_name=")


def test_it_is_frozen_and_small() -> None:
    record = Customer("c-1", "acme", None, None, None, "m", None, None)
    with pytest.raises(AttributeError):
        record.account_name = "other"
    with pytest.raises(AttributeError):
        del record.customer_id
    assert sys.getsizeof(record) <= 64
    assert record != ("c-1", "acme") and record.email is None
