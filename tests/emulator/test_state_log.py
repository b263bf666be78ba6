"""The state file: a snapshot plus a change log, shared between emulators and processes.

Every test here checks the one property that matters: what is on disk (snapshot + log) is the
state in memory, after every request, and another emulator on the same file follows along.
The money state machine runs again on a state file with that check after every step.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant

from reconciler.emulator import Emulator, VirtualClock, codec
from reconciler.emulator import state as state_module
from reconciler.emulator.state import StateFileError, StateStore

from . import demo
from .client import Api
from .conftest import DEMO_DOC
from .test_money_properties import MoneyMachine

QUOTA_ADJUST = "/v2/partners/coupon-quotas/indirect-partner-adjust"
QUOTA_RECLAIM = "/v2/partners/coupon-quotas/indirect-partner-reclaim"
AUTORENEW = "/v2/orders/subscriptions/resources/autorenew/"
CONFIG = "/v2/orders/subscriptions/resources/renew/config"
RENEW = "/v2/orders/subscriptions/resources/renew"
CUSTOMERS = "/v2/partners/sub-customers/query"
ISSUE = {"quota_id": demo.QUOTA_MAIN, "indirect_partner_ids": [demo.TIANFU], "quota_amount": "1"}
RENEWAL = {"resource_ids": [demo.XINGHE_WEB_01], "period_type": 3, "period_num": 1}


def _no_factory() -> Any:
    raise AssertionError("the file exists: nothing should be created")


def on_disk(path: Path) -> dict[str, Any]:
    """The state as a fresh process would load it from the files."""
    store = StateStore(path, _no_factory)
    store.open()
    return codec.dump_state(store.state)


def in_memory(emu: Emulator) -> dict[str, Any]:
    return codec.dump_state(emu._store.state)


def assert_same(emu: Emulator, path: Path, *followers: Emulator) -> None:
    want = in_memory(emu)
    got = on_disk(path)
    assert [k for k in want if want[k] != got.get(k)] == []
    for other in followers:
        other._mutate(lambda _s: None)  # a request: catches up with the files
        assert [k for k in want if want[k] != in_memory(other).get(k)] == []


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state.json"


@pytest.fixture
def pair(path: Path, clock: VirtualClock) -> tuple[Emulator, Emulator]:
    first = Emulator(clock=clock, state_file=path, seed=DEMO_DOC, rate_limit=0)
    return first, Emulator(clock=clock, state_file=path, rate_limit=0)


def test_every_kind_of_change_reaches_the_file_and_the_other_emulator(
    pair: tuple[Emulator, Emulator], path: Path
) -> None:
    first, second = pair
    api = Api(first)
    customer = api.as_customer(demo.XINGHE)  # temporary credentials: a new object
    # Each step and the status it answers (None: a control-plane method, no answer).
    steps: list[tuple[Callable[[], Any], int | None]] = [
        (lambda: api.post(QUOTA_ADJUST, ISSUE), 200),
        (lambda: api.post(QUOTA_RECLAIM, {"quota_ids": [demo.CHILD_TIANFU]}), 200),
        (lambda: customer.delete(AUTORENEW + demo.XINGHE_WEB_01), 204),
        (lambda: customer.post(AUTORENEW + demo.XINGHE_WEB_01, {"period_type": "MONTH"}), 204),
        (lambda: customer.post(CONFIG, {"config_name": "EXPIRE_DATE", "config_value": "5"}), 200),
        (lambda: customer.post(RENEW, {**RENEWAL, "is_auto_pay": 1}), 200),
        (lambda: first.set_account_manager(demo.XINGHE, None), None),
        (lambda: first.set_agency(demo.LINGYUN, True), None),
        (lambda: first.spend_quota(demo.CHILD_QINLING, "100.00"), None),
        (lambda: first.set_quota(demo.QUOTA_SECOND, quota_status=3), None),
        (lambda: first.set_resource(demo.XINGHE_WEB_01, status=4), None),
        (lambda: first.spend_coupon(demo.COUPON_XINGHE, "10.00"), None),
        (lambda: first.spend_cash(demo.XINGHE, "20.00"), None),
        (lambda: first.add_fault("list_sub_customers", "throttle", count=2), None),
        (lambda: api.post(CUSTOMERS, {}), 429),  # uses up one of the fault's two
        (lambda: first.advance_clock(400 * 86400.0), None),  # coupons expire: records sorted in
        (lambda: api.post(CUSTOMERS, {}), 429),
        (lambda: api.post(CUSTOMERS, {}), 200),
        (first.clear_faults, None),
        (first.clear_call_log, None),
        (lambda: api.post(CUSTOMERS, {}), 200),
    ]
    for step, status in steps:
        answer = step()
        assert (answer.status if status else None) == status, answer
        assert_same(first, path, second)
    # and the other way round
    second.set_account_manager(demo.XINGHE, "zhang.wei")
    assert first._mutate(lambda s: s.customers[demo.XINGHE].account_manager) == "zhang.wei"
    first.reset()
    assert_same(first, path, second)


def test_a_read_appends_a_line_and_leaves_the_snapshot_alone(
    pair: tuple[Emulator, Emulator], path: Path
) -> None:
    first, _ = pair
    before = path.stat()
    log_before = first._store.log_path.stat().st_size
    for _ in range(50):
        assert Api(first).post(CUSTOMERS, {}).status == 200
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    lines = first._store.log_path.read_bytes().splitlines()
    assert len(lines) == 51  # the header and one line per request
    delta = json.loads(lines[-1])
    assert set(delta) == {"set", "append", "calls_len"}  # the request counter, the call log
    assert first._store.log_path.stat().st_size - log_before < 50 * 1024
    assert len(Emulator(state_file=path).call_log()) == 50


def test_a_request_that_changes_nothing_writes_nothing(path: Path) -> None:
    emu = Emulator(state_file=path, seed=DEMO_DOC)
    size = emu._store.log_path.stat().st_size
    assert emu.agency_name
    emu.faults()
    assert emu._store.log_path.stat().st_size == size


def test_the_log_is_compacted_into_a_new_snapshot(
    pair: tuple[Emulator, Emulator], path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = pair
    monkeypatch.setattr(state_module, "COMPACT_MIN_BYTES", 0)
    snapshot = path.stat().st_size
    api = Api(first)
    for _ in range(200):
        api.post(CUSTOMERS, {})
    assert first._store.log_path.stat().st_size <= snapshot + 8192
    assert path.stat().st_size > snapshot  # the call log moved into the snapshot
    assert_same(first, path, second)


def test_a_torn_last_line_is_ignored_then_cut_off(path: Path) -> None:
    emu = Emulator(state_file=path, seed=DEMO_DOC)
    Api(emu).post(CUSTOMERS, {})
    with emu._store.log_path.open("ab") as handle:
        handle.write(b'{"set": {"counters": {"request"')  # a crash in the middle of a write
    other = Emulator(state_file=path)
    assert len(other.call_log()) == 1
    other.set_account_manager(demo.XINGHE, None)  # the next write cuts the torn line first
    assert_same(other, path, emu)
    for line in other._store.log_path.read_bytes().splitlines():
        json.loads(line)


def test_a_log_left_by_an_interrupted_compaction_is_ignored(path: Path) -> None:
    emu = Emulator(state_file=path, seed=DEMO_DOC)
    stale = emu._store.log_path.read_bytes()
    emu.set_account_manager(demo.XINGHE, None)
    emu._store._write_snapshot()  # compaction: a new snapshot, then a new log, which a crash...
    emu._store.log_path.write_bytes(stale + b'{"del": {"customers": ["x"]}}\n')  # ...prevented
    after = Emulator(state_file=path)
    assert in_memory(after) == in_memory(emu)
    after.set_account_manager(demo.XINGHE, "li.na")  # writes a new log for the snapshot
    assert_same(after, path)
    assert json.loads(after._store.log_path.read_bytes().splitlines()[0]) == {
        "snapshot": json.loads(path.read_bytes())["id"]
    }


def test_a_format_1_state_file_still_loads(path: Path) -> None:
    emu = Emulator(seed=DEMO_DOC)
    plain = emu.state()
    path.write_text(json.dumps({"format": 1, "state": plain}))
    loaded = Emulator(state_file=path)
    assert loaded._mutate(lambda s: s.quotas[demo.QUOTA_MAIN].balance) == Decimal("445000.00")
    assert loaded.state() == plain


@pytest.mark.parametrize(
    "log",
    [b'{"snapshot": null}\n{not json\n', b"[]\n", b'{"snapshot": null}\n{"put": {"nope": {}}}\n'],
    ids=["garbled line", "no header", "unknown collection"],
)
def test_a_corrupt_log_is_a_state_file_error(path: Path, log: bytes) -> None:
    Emulator(state_file=path, seed=DEMO_DOC)
    snapshot = json.loads(path.read_bytes())
    log = log.replace(b"null", json.dumps(snapshot["id"]).encode())
    (path.parent / "state.json.log").write_bytes(log)
    with pytest.raises(StateFileError, match="not a readable emulator change log"):
        Emulator(state_file=path)


class FileMoneyMachine(MoneyMachine):
    """The money properties again, on a state file another emulator follows."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="emu-state-"))
        self.path = self.tmp / "state.json"
        super().__init__()

    def new_emulator(self, clock: VirtualClock) -> Emulator:
        emu = Emulator(clock=clock, state_file=self.path, seed=DEMO_DOC, rate_limit=0)
        self.follower = Emulator(clock=clock, state_file=self.path, rate_limit=0)
        return emu

    @invariant()
    def the_files_hold_the_state(self) -> None:
        assert_same(self.emu, self.path, self.follower)

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


TestFileMoneyMachine = FileMoneyMachine.TestCase
TestFileMoneyMachine.settings = settings(
    max_examples=8,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
