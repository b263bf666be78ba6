"""`reconciler plan` end to end through the CLI against a fresh embedded emulator."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from reconciler.plan.model import fingerprint

from .conftest import EXAMPLES, IN_SYNC, REPO, Env

ANSI = re.compile(r"\x1b\[")


def test_examples_plan_shows_every_kind(env: Env) -> None:
    result = env.run("plan", str(EXAMPLES))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Reseller quota (4)" in out
    assert "Auto-renew (4)" in out
    assert "Account managers (3)" in out
    assert "Customer coupons (2)" in out
    assert "~ reclaim-reissue xinghe-net" in out
    assert "+ issue           tianfu-cloud" in out
    assert "balance 30000.00 -> 45000.00" in out
    assert "~ reclaim-reissue qinling-digital" in out
    assert "6,500.00 CNY already spent cannot come back" in out
    assert "+ enable          jq-tms-app" in out
    assert "(period_type=MONTH, renew_times=12)" in out
    assert "- disable         haina-datasets" in out
    assert "! manual          huaxia-edu" in out
    assert "Choose 'Assign Account Manager', select wang.fang and confirm." in out
    assert (
        "IAM refused the customer's temporary credentials through the agency "
        "'demo_distributor_platform'" in out
    )
    assert "the resource is expired" in out
    assert out.rstrip().endswith(
        "Plan: 19 changes (1 disable, 3 enable, 4 fund, 4 issue, 2 reclaim, 2 reclaim-reissue, "
        "3 manual); issue 71,850.00 CNY, reclaim 30,500.00 CNY, 8,300.00 CNY already spent; "
        "28 managed objects unchanged; 2 declared states cannot be reached."
    )
    assert not ANSI.search(out), "no colour when stdout is not a terminal"


def test_each_change_points_at_the_manifest_line(env: Env) -> None:
    out = env.run("plan", str(EXAMPLES)).stdout
    assert f"from {EXAMPLES}/reseller-quotas.yaml:14:16" in out
    assert f"from {EXAMPLES}/auto-renew.yaml:25:9" in out


def test_phone_and_email_are_masked(env: Env) -> None:
    out = env.run("plan", str(EXAMPLES), "--format", "json").stdout
    assert "186****4598" in env.run("plan", str(EXAMPLES)).stdout
    for raw in ("18612344598", "huaxia-edu-it@example.com"):
        seeded = (REPO / "examples" / "emulator-seed.yaml").read_text()
        if raw in seeded:
            assert raw not in out


@pytest.mark.parametrize(
    ("manifests", "flags", "code"),
    [
        pytest.param(EXAMPLES, (), 0, id="changes-plain"),
        pytest.param(EXAMPLES, ("--detailed-exitcode",), 2, id="changes-detailed"),
        pytest.param(IN_SYNC, (), 0, id="in-sync-plain"),
        pytest.param(IN_SYNC, ("--detailed-exitcode",), 0, id="in-sync-detailed"),
    ],
)
def test_exit_codes(env: Env, manifests: object, flags: tuple[str, ...], code: int) -> None:
    result = env.run("plan", str(manifests), *flags)
    assert result.exit_code == code, result.output


def test_in_sync_set_has_no_changes(env: Env) -> None:
    out = env.run("plan", str(IN_SYNC)).stdout
    assert "No changes. Live state matches the manifests." in out


def test_plan_never_writes(env: Env) -> None:
    env.run("plan", str(EXAMPLES))
    log = env.emulator().call_log()
    assert log, "the plan read the live state"
    assert env.writes() == []


def test_json_plan_validates_and_checksum_is_reproducible(env: Env) -> None:
    schema = json.loads((REPO / "schemas" / "plan.schema.json").read_text())
    result = env.run("plan", str(EXAMPLES), "--format", "json", "--out", "saved.json")
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(schema).validate(data)
    content = {
        k: v
        for k, v in data.items()
        if k not in {"tool_version", "created_at", "expires_at", "checksum"}
    }
    assert fingerprint(content) == data["checksum"]
    saved = json.loads((env.root / "saved.json").read_text())
    assert saved["checksum"] == data["checksum"]
    again = json.loads(env.run("plan", str(EXAMPLES), "--format", "json").stdout)
    assert again["checksum"] == data["checksum"], "same live state, same plan"
    assert (env.root / "saved.json").stat().st_mode & 0o077 == 0


def test_json_amounts_are_strings(env: Env) -> None:
    data = json.loads(env.run("plan", str(EXAMPLES), "--format", "json").stdout)
    assert data["summary"]["money"] == {
        "currency": "CNY",
        "issue": "71850.00",
        "reclaim": "30500.00",
        "delta": "41350.00",
        "unrecoverable": "8300.00",
    }
    issue = next(
        c
        for c in data["changes"]
        if c["action"] == "reclaim-reissue" and c["kind"] != "customer-coupons"
    )
    assert [c["operation"] for c in issue["calls"]] == [
        "reclaim_coupon_quotas",
        "update_coupon_quotas",
    ]
    assert issue["calls"][1]["body"]["quota_amount"] == "12000.00"


def test_markdown_for_pull_requests(env: Env) -> None:
    out = env.run("plan", str(EXAMPLES), "--format", "markdown").stdout
    assert out.startswith("<!-- partner-reconciler:plan -->")
    assert "**Quota will be reclaimed** from 1 reseller: 18,500.00 CNY" in out
    assert "6,500.00 CNY already spent by resellers cannot come back" in out
    assert "| `~` reclaim-reissue | qinling-digital" in out
    assert "| `+` enable | jq-tms-app" in out
    assert "<details><summary>Full plan</summary>" in out
    assert out.index("**Guards:**") < out.index("### Reseller quota")


def test_github_annotations(env: Env) -> None:
    out = env.run("plan", str(EXAMPLES), "--format", "github").stdout
    assert f"::notice file={EXAMPLES}/reseller-quotas.yaml,line=14,col=16," in out
    assert "::warning file=" in out  # reclaims and manual changes stand out


def test_drift_made_in_the_console_shows_up(env: Env) -> None:
    emu = env.emulator()
    emu.set_resource("8f1bcb4c-0ea3-5d2c-a5a5-8e70c33759e2", expire_policy=0)  # kaiyuan-saas-01
    out = env.run("plan", str(IN_SYNC)).stdout
    assert "+ enable          kaiyuan-saas-01" in out
