"""The reader gives the C heap's free pages back every TRIM_EVERY calls, and the planner lets the
reader go (a full collection) before the diff: freed memory is released, never something in use."""

from __future__ import annotations

import gc

import pytest

from reconciler import memory
from tests.emulated import emulated_client


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


def test_the_reader_is_gone_before_the_diff_with_agency_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``read_live`` lets its reader go before it returns, also when the agency checks held it
    (they did, so 100,000 customers' reading bookkeeping stayed beside the diff: ~90 B each)."""
    import weakref

    from bench import workload
    from reconciler.bss.client import BssClient
    from reconciler.emulator import Emulator, LatencyModel, VirtualClock
    from reconciler.emulator.generate import generate_partner
    from reconciler.plan import planner
    from reconciler.plan.reader import Reader

    gen = generate_partner(60, resellers=4, quotas=8, seed=3)
    desired = workload.desired_state(gen)
    clock = VirtualClock()
    emu = Emulator(clock=clock, state_factory=lambda: gen.state, latency=LatencyModel())

    def client() -> BssClient:
        return emulated_client(emu, clock, agency_name=desired.settings.agency_name)

    readers: list[weakref.ref[Reader]] = []
    made = Reader.__init__

    def init(self: Reader, *args: object, **kwargs: object) -> None:
        made(self, *args, **kwargs)  # type: ignore[arg-type]
        readers.append(weakref.ref(self))

    monkeypatch.setattr(Reader, "__init__", init)

    async def asked_again(reader: BssClient, cid: str) -> int:
        before = reader.iam_calls
        await reader.customer_credentials(cid)
        return reader.iam_calls - before

    async def main() -> tuple[int, list[tuple[int, int]]]:
        asked: list[tuple[int, int]] = []
        for keep in (False, True):  # a fresh client each round: nothing cached from before
            async with client() as first, client() as second:
                live, _ = await planner.read_live(
                    desired, first, keep_credentials=keep, clock=clock
                )
                cid = next(cid for cid, why in sorted(live.agency.items()) if why is None)
                # the checks made once every read is in (agency_customers) keep alike
                await planner.check_agencies(second, {cid}, live, desired, keep=keep)
                asked.append((await asked_again(first, cid), await asked_again(second, cid)))
        return len(live.agency), asked

    enabled = gc.isenabled()
    gc.disable()  # only read_live's own collection may free the reader's cycles
    try:
        checked, asked = clock.run(main())
        assert checked > 0  # the agency checks ran, holding the reader while they did
        assert len(readers) == 2 and all(reader() is None for reader in readers)
    finally:
        if enabled:
            gc.enable()
    # a plan keeps none of the credentials its checks obtained; an apply's keeps them
    assert asked == [(1, 1), (0, 0)]


def test_a_record_keeps_the_manifests_strings_of_its_id_and_name() -> None:
    """A customer's record holds the manifest's string of its ID and of its account name
    where a manifest names it so, not the answer's equal copies (one string each, not two)."""
    from bench import workload
    from reconciler.emulator import Emulator, LatencyModel, VirtualClock
    from reconciler.emulator.generate import generate_partner
    from reconciler.kinds import registry
    from reconciler.plan.reader import Reader

    gen = generate_partner(80, resellers=4, quotas=8, seed=5)
    desired = workload.desired_state(gen)
    clock = VirtualClock()
    emu = Emulator(clock=clock, state_factory=lambda: gen.state, latency=LatencyModel())
    client = emulated_client(emu, clock)
    written: dict[str, set[int]] = {}  # a string -> the manifest's objects of it
    for kind in registry.KINDS:
        for entry in kind.entries(desired):
            ref = kind.references(entry).customer
            for text in (ref.customer_id, ref.account_name) if ref is not None else ():
                if text is not None:
                    written.setdefault(text, set()).add(id(text))

    async def main() -> dict[str, object]:
        async with client:
            live = await Reader(client, clock=clock).read(desired)
        return dict(live.customers)

    customers = clock.run(main())
    by_name = by_id = 0
    for cid, record in customers.items():
        assert isinstance(cid, str)
        name = getattr(record, "account_name", None)
        if cid in written:
            by_id += 1
            assert id(record.customer_id) in written[cid]  # type: ignore[attr-defined]
        if name in written:
            by_name += 1
            assert id(name) in written[name]
    assert by_id > 10 and by_name > 3  # both kinds of reference are in the workload
