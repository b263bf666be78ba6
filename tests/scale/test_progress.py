"""Progress of long reads: a status line on a terminal only, the first line before any call."""

from __future__ import annotations

import io
import re

from bench import workload
from reconciler.emulator import Emulator, LatencyModel, VirtualClock
from reconciler.emulator.generate import generate_partner
from reconciler.kinds.auto_renew.reads import RESOURCES as RESOURCE_READ
from reconciler.kinds.reseller_quota.reads import ISSUED
from reconciler.plan.progress import Progress, ReadCounters, duration, status_text
from reconciler.plan.reader import Reader
from reconciler.render.progress import TtyProgress, tty_progress
from tests.emulated import emulated_client
from tests.plan.test_terminal import big_read

RESOURCES = "list_pay_per_use_customer_resources"


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_only_on_a_terminal() -> None:
    assert tty_progress(io.StringIO()) is None
    assert isinstance(tty_progress(FakeTty()), TtyProgress)


def test_status_line() -> None:
    counters = big_read()  # the customers and their reads, then the resellers and theirs
    assert status_text(counters) == (
        "reading: 12,300/100,000 customers, 9,800/100,000 resource lists, 500/500 resellers, "
        "45/500 issued quota lists (ETA 2h00m)"
    )
    assert counters.fraction() == (12_300 + 9_800 + 500 + 45, 100_000 + 100_000 + 500 + 500)
    assert [duration(s) for s in (4, 170, 10_020)] == ["4s", "3m", "2h47m"]


def test_redraws_in_place_at_most_every_interval() -> None:
    now = [0.0]
    out = FakeTty()
    progress = TtyProgress(out, interval=0.25, now=lambda: now[0])
    progress.line("Reading live state for 3 customers, 0 resellers...")
    counters = ReadCounters(customers=3)
    for step in range(10):
        counters.customers_found = step
        now[0] = step * 0.1
        progress.update(counters)
    progress.finish()
    text = out.getvalue()
    assert text.startswith("Reading live state for 3 customers, 0 resellers...\n")
    assert text.count("\r\x1b[K" + "reading:") == 4  # at 0.0, 0.3, 0.6, 0.9 s
    assert text.endswith("\r\x1b[K")  # the status line is cleared at the end


class Recorder(Progress):
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.lines: list[tuple[str, int]] = []
        self.updates: list[ReadCounters] = []

    def line(self, text: str) -> None:
        self.lines.append((text, len(self.emu.call_log())))

    def update(self, counters: ReadCounters) -> None:
        self.updates.append(counters.snapshot())


def test_first_line_before_any_call_and_counters_reach_the_totals() -> None:
    gen = generate_partner(250, resellers=12, quotas=30, seed=21)
    desired = workload.desired_state(gen)
    clock = VirtualClock()
    emu = Emulator(clock=clock, state_factory=lambda: gen.state, latency=LatencyModel())
    client = emulated_client(emu, clock)
    progress = Recorder(emu)
    reader = Reader(client, progress=progress, clock=clock)

    async def main() -> None:
        async with client:
            await reader.read(desired)

    clock.run(main())
    assert progress.lines == [("Reading live state for 250 customers, 12 resellers...", 0)]
    last = progress.updates[-1]
    assert (last.customers_found, last.resellers_found) == (250, 12)
    resources, issued = last.reads[RESOURCE_READ.name], last.reads[ISSUED.name]
    assert (resources.done, resources.total, issued.done, issued.total) == (250, 250, 12, 12)
    assert last.calls == sum(s.calls for s in client.stats().values())
    etas = [u.eta_seconds for u in progress.updates if u.eta_seconds is not None]
    assert etas[0] > etas[len(etas) // 2] > 0  # counts down


class Recording(Progress):
    heartbeat = 1.0

    def __init__(self) -> None:
        self.lines: list[str] = []

    def update(self, counters: ReadCounters) -> None:
        self.lines.append(status_text(counters))


def test_the_status_line_says_when_the_read_waits_on_a_slow_endpoint() -> None:
    """A resource listing answers after 45 s (past the 30 s timeout), and so does its retry: the
    status line keeps moving, names the endpoint and how long it has waited, then the retry;
    the read goes on."""
    gen = generate_partner(1, resellers=0, quotas=0, seed=4)
    clock = VirtualClock()
    emu = Emulator(clock=clock, state_factory=lambda: gen.state, latency=LatencyModel.constant(0.1))
    emu.add_fault(RESOURCES, "latency", seconds=45.0, count=2)
    client = emulated_client(emu, clock)
    progress = Recording()

    async def main() -> None:
        async with client:
            await Reader(client, progress=progress).read(workload.desired_state(gen))

    clock.run(main())
    waiting = [line for line in progress.lines if "waiting on" in line]
    assert any(f"; waiting on {RESOURCES} for 2" in line for line in waiting)  # 20-29 s
    assert any(re.search(r"for [345]\ds \(retry 1: ReadTimeout", line) for line in waiting)
    assert "waiting" not in progress.lines[-1]  # all answered in the end
    assert client.stats()[RESOURCES].retries == 2
