"""The census keeps every listed ID and name packed a page at a time: membership and the set
of strings are those of a plain set, whatever the strings hold (live names are untrusted)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.plan.census import Strings

TEXT = st.text(alphabet=st.sampled_from(["a", "b", "\0", "-", "é"]), min_size=0, max_size=4)


@given(st.lists(st.lists(TEXT, max_size=6), max_size=5), st.lists(TEXT, max_size=6))
def test_strings_are_a_set(pages: list[list[str]], probes: list[str]) -> None:
    packed = Strings()
    for page in pages:
        packed.update(page)
    plain = {s for page in pages for s in page}
    assert set(packed) == plain
    for probe in [*plain, *probes]:
        assert (probe in packed) == (probe in plain)
