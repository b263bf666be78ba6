"""The reader gives the C heap's free pages back every TRIM_EVERY calls, and the planner lets the
reader go (a full collection) before the diff: freed memory is released, never something in use."""

from __future__ import annotations

import gc

import pytest

from reconciler import memory


def test_a_trimmer_releases_on_every_nth_call(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(memory, "_TRIM", calls.append)
    tick = memory.trimmer(3)
    for _ in range(7):
        tick()
    assert calls == [0, 0]


def test_release_collects_cycles_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_TRIM", None)  # elsewhere than glibc: nothing to call
    collected: list[str] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            collected.append("freed")

    enabled = gc.isenabled()
    gc.disable()
    try:
        Cycle()
        memory.release_free_memory()
        assert collected == []
        memory.release_free_memory(collect=True)
        assert collected == ["freed"]
    finally:
        if enabled:
            gc.enable()


def test_on_this_machine_the_trim_is_glibc_s() -> None:
    memory.release_free_memory()  # must not raise, whatever the C library
    if memory._TRIM is not None:
        assert memory._TRIM(0) in (0, 1)
