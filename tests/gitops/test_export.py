"""`reconciler export`: live state as manifests, and the round trip export -> plan = no changes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from reconciler.bss.models import Customer
from reconciler.gitops.export import _schema_dir, run_export
from reconciler.gitops.export_read import ExportScope, LiveAccount
from reconciler.gitops.export_yaml import render_files
from reconciler.kinds import registry
from reconciler.manifests.load import load_desired
from reconciler.plan.progress import Progress, ReadCounters, status_text

from .conftest import EXAMPLES, HAINA, KAIYUAN_01, MAIN_QUOTA, TIANFU_QUOTA, XINGHE, XINGHE_WEB, Env

#: every kind's file, and the Settings
ALL_FILES = sorted([*(str(k.export_file) for k in registry.with_exports()), "settings.yaml"])
HAINA_CACHE = "a375ca08-08e3-5326-9a98-a8b8e72708bc"  # frozen DCS, not on auto-renew
HUAXIA_LIVE = "bfda1cf4-7b29-558c-b008-d406a36e4307"


@pytest.fixture(autouse=True)
def agency(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """The agency name is configuration, never read from the API: an adopter sets it."""
    monkeypatch.setenv("RECONCILER_AGENCY_NAME", "demo_distributor_platform")


def exported(env: Env, *args: str, name: str = "adopted") -> Path:
    result = env.run("export", name, *args)
    assert result.exit_code == 0, result.output
    return env.root / name


def assert_no_changes(env: Env, directory: Path) -> None:
    plan = env.run("plan", str(directory), "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "No changes. Live state matches the manifests." in plan.stdout
    drift = env.run("drift", str(directory))
    assert drift.exit_code == 0, drift.output


def test_export_of_the_demo_account_plans_no_changes(env: Env) -> None:
    result = env.run("export", "adopted")
    assert result.exit_code == 0, result.output
    directory = env.root / "adopted"
    assert sorted(p.name for p in directory.iterdir()) == ALL_FILES
    assert "account-managers.yaml  written    25 customers (18 with a manager)" in result.stdout
    assert "Next: reconciler plan adopted" in result.stdout
    desired = load_desired([directory])
    assert len(desired.entries_of("account-manager")) == 25
    assert len(desired.entries_of("reseller-quota")) == 3
    assert_no_changes(env, directory)
    assert env.writes() == [], "export only reads"


def test_round_trip_holds_after_drift(env: Env) -> None:
    emu = env.emulator()
    emu.set_account_manager(XINGHE, "li.na")
    emu.set_resource(XINGHE_WEB, expire_policy=0)
    emu.set_resource(KAIYUAN_01, expire_policy=3, status=5)  # expired while on auto-renew
    emu.spend_quota(TIANFU_QUOTA, "1234.56")
    emu.set_agency(HAINA, granted=False)
    directory = exported(env)
    assert_no_changes(env, directory)
    quotas = (directory / "reseller-quotas.yaml").read_text(encoding="utf-8")
    assert 'balance: "28765.44"' in quotas


def test_files_read_like_the_examples(env: Env) -> None:
    directory = exported(env)
    managers = (directory / "account-managers.yaml").read_text(encoding="utf-8")
    renew = (directory / "auto-renew.yaml").read_text(encoding="utf-8")
    quotas = (directory / "reseller-quotas.yaml").read_text(encoding="utf-8")
    settings = (directory / "settings.yaml").read_text(encoding="utf-8")
    first = [t.splitlines()[0] for t in (managers, renew, quotas, settings)]
    # the union schema, in every document: the YAML language server reads one per document
    assert first == ["# yaml-language-server: $schema=../schemas/manifest.schema.json"] * 4
    assert "---\n# yaml-language-server: $schema=../schemas/manifest.schema.json\n" in quotas
    assert line_of(managers, "- {customer: xinghe-net, manager: zhang.wei}").endswith(f"# {XINGHE}")
    assert "- {customer: ruixin-media, manager: null}" in managers
    # one document per distributor quota, amounts quoted with two decimals, spent in comments
    assert quotas.count("kind: ResellerQuota") == 2
    assert f'distributorQuota: "{MAIN_QUOTA}"' in quotas
    qinling = line_of(quotas, 'balance: "18500.00"')
    assert qinling.endswith("# 1 quota: issued 25000.00, spent 6500.00")
    assert "1 reclaimed" in line_of(quotas, 'balance: "30000.00"')
    # majority default, the rest by resource id; frozen resources pinned with a reason
    haina = section(renew, "- customer: haina-data")
    assert "autoRenew: true" in haina
    assert f'"{HAINA_CACHE}": false' in haina and "frozen: cannot change" in haina
    huaxia = section(renew, "- customer: huaxia-edu")
    assert "autoRenew: false" in huaxia, "a tie defaults to false"
    assert f'"{HUAXIA_LIVE}": true' in huaxia
    assert "- customer: mingyuan-design" not in renew, "no resources, nothing to declare"
    assert "agencyName: demo_distributor_platform" in settings
    assert "accountManagers: [chen.jie, li.na, wang.fang, zhang.wei]" in settings


def line_of(text: str, needle: str) -> str:
    (line,) = [ln for ln in text.splitlines() if needle in ln]
    return line


def section(text: str, start: str) -> str:
    lines = text.splitlines()
    i = next(n for n, ln in enumerate(lines) if start in ln)
    end = next((n for n in range(i + 1, len(lines)) if "    - " in lines[n][:6]), len(lines))
    return "\n".join(lines[i:end])


def test_same_live_state_same_bytes(env: Env) -> None:
    one = exported(env, name="one")
    two = exported(env, name="two")
    for name in ALL_FILES:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_kind_and_customer_filters(env: Env) -> None:
    directory = exported(
        env, "--kind", "auto-renew", "--customer", "xinghe-net", "--customer", HAINA
    )
    assert sorted(p.name for p in directory.iterdir()) == ["auto-renew.yaml", "settings.yaml"]
    desired = load_desired([directory])
    names = sorted(r.customer.account_name or "" for r in desired.entries_of("auto-renew"))
    assert names == ["haina-data", "xinghe-net"]
    assert "accountManagers: [chen.jie, zhang.wei]" in (directory / "settings.yaml").read_text()
    assert_no_changes(env, directory)


def test_reseller_filter(env: Env) -> None:
    directory = exported(env, "--kind", "reseller-quota", "--reseller", "tianfu-cloud")
    desired = load_desired([directory])
    assert {q.reseller.account_name for q in desired.entries_of("reseller-quota")} == {
        "tianfu-cloud"
    }
    assert [q.balance for q in desired.entries_of("reseller-quota")] == [Decimal("30000.00")]
    assert_no_changes(env, directory)


def test_unknown_filter_values_are_an_error(env: Env) -> None:
    result = env.run("export", "out", "--customer", "nobody", "--reseller", "nowhere")
    assert result.exit_code == 1
    assert "customer 'nobody'" in result.stderr and "reseller 'nowhere'" in result.stderr
    assert not (env.root / "out").exists()


def customer(cid: str, name: str | None, manager: str | None = None) -> Customer:
    return Customer(cid, name, None, "2", None, manager, None, None)


@pytest.mark.parametrize(
    ("name", "by_name"),
    [
        pytest.param("plain-name", True, id="plain"),
        pytest.param("yes", True, id="yaml-1.1-boolean-word"),
        pytest.param("null", True, id="null-word"),
        pytest.param("0123", True, id="numeric-looking"),
        pytest.param("客户-杭州", True, id="unicode"),
        pytest.param("two words", False, id="space"),
        pytest.param("x" * 65, False, id="too-long"),
        pytest.param(None, False, id="no-name"),
    ],
)
def test_names_read_back_exactly_or_become_ids(
    tmp_path: Path, name: str | None, by_name: bool
) -> None:
    account = LiveAccount("p", "e", "agency", customers=[customer("id-1", name, "m.one")])
    files = render_files(account, ExportScope(kinds=frozenset({"account-manager"})), schema_dir=".")
    for file_name, (text, _) in files.items():
        (tmp_path / file_name).write_text(text, encoding="utf-8")
    (assignment,) = load_desired([tmp_path]).entries_of("account-manager")
    if by_name:
        assert (assignment.customer.account_name, assignment.customer.customer_id) == (name, None)
    else:
        assert (assignment.customer.account_name, assignment.customer.customer_id) == (None, "id-1")
    assert assignment.manager == "m.one"


def test_duplicate_names_become_ids(tmp_path: Path) -> None:
    account = LiveAccount(
        "p", "e", None, customers=[customer("id-1", "twin"), customer("id-2", "twin")]
    )
    files = render_files(account, ExportScope(kinds=frozenset({"account-manager"})), schema_dir=".")
    for file_name, (text, _) in files.items():
        (tmp_path / file_name).write_text(text, encoding="utf-8")
    desired = load_desired([tmp_path])
    assert sorted(m.customer.customer_id or "" for m in desired.entries_of("account-manager")) == [
        "id-1",
        "id-2",
    ]
    assert desired.settings.agency_name is None


@pytest.mark.parametrize(
    ("where", "expected"),
    [("manifests", "../schemas"), ("a/b", "../../schemas"), (".", "schemas")],
)
def test_modeline_points_at_the_nearest_schemas(tmp_path: Path, where: str, expected: str) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "manifest.schema.json").write_text("{}", encoding="utf-8")
    assert _schema_dir(tmp_path / where) == expected


class Recorder(Progress):
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.updates: list[ReadCounters] = []
        self.finished = False

    def line(self, text: str) -> None:
        self.lines.append(text)

    def update(self, counters: ReadCounters) -> None:
        self.updates.append(counters.snapshot())

    def finish(self, text: str | None = None) -> None:
        self.finished = True


def test_export_shows_progress(env: Env) -> None:
    progress = Recorder()
    run_export(env.root / "adopted", ExportScope(), progress=progress)
    assert progress.lines == ["Reading the partner account (export)..."]
    last = progress.updates[-1]
    found = (last.customers_found, last.customers, last.resellers_found, last.resellers)
    assert found == (25, 25, 3, 3)
    # each declared read under its own label: a kind with two reads per customer (coupons and
    # their issue records) or per reseller (accounts and customer lists) counts both
    assert status_text(last) == (
        "reading: 25/25 customers, 17/17 customer balances, 17/17 coupon lists, "
        "17/17 coupon record lists, 25/25 resource lists, 3/3 resellers, 3/3 issued quota lists, "
        "3/3 reseller accounts, 3/3 reseller customer lists, 3/3 resellers' customer coupons"
    )
    assert last.left() == 0
    assert progress.finished
    mid = progress.updates[len(progress.updates) // 2].reads.values()
    assert 0 < sum(t.done for t in mid) < sum(t.total for t in mid) == 17 * 3 + 25 + 3 * 4


def test_plan_counts_each_declared_read_under_its_label(env: Env) -> None:
    """The plan's status line counts every declared read of the kinds in the run, each under
    the label its kind gives it, so two reads per customer (coupons and their issue records)
    or per reseller (accounts and customer lists) are two counters, each reaching its total."""
    from reconciler.cli.workflow import compute_plan

    progress = Recorder()
    compute_plan([EXAMPLES], progress=progress)
    last = progress.updates[-1]
    labels = {t.label: (t.done, t.total) for t in last.reads.values()}
    for label in ("coupon lists", "coupon record lists", "reseller accounts", "resource lists"):
        assert labels[label][1] > 0, labels
    assert all(done == total for done, total in labels.values()), labels
    assert last.left() == 0 and progress.finished
    text = status_text(last)
    assert text.startswith(f"reading: {last.customers_found}/{last.customers} customers, ")
    shown = [f"{done}/{total} {label}" for label, (done, total) in labels.items() if total]
    assert all(part in text for part in shown), text
