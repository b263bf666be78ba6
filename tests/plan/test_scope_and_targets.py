"""A narrowed run says so at the top of every output; --target works like Terraform's -target
and is sealed into the saved plan; Settings scope never turns unchecked entries into "No
changes"."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from .conftest import IN_SYNC, REPO, Env

PLAN_SCHEMA = json.loads((REPO / "schemas" / "plan.schema.json").read_text(encoding="utf-8"))
DRIFT_SCHEMA = json.loads((REPO / "schemas" / "drift.schema.json").read_text(encoding="utf-8"))
KAIYUAN_01 = "8f1bcb4c-0ea3-5d2c-a5a5-8e70c33759e2"  # kaiyuan-saas, on auto-renew
TIANFU_QUOTA = "2025080209150301"  # tianfu-cloud's 30000.00 child of the main quota

SCOPED_SETTINGS = """apiVersion: partner-reconciler/v1
kind: Settings
metadata:
  name: in-sync-settings
spec:
  agencyName: demo_distributor_platform
  accountManagers: [zhang.wei, li.na, wang.fang, chen.jie]
  scope:
    customers: [xinghe-net]
    resellers: [tianfu-cloud]
"""


@pytest.fixture
def scoped(env: Env) -> Path:
    """The in-sync set with a Settings scope, and live drift outside that scope only."""
    manifests = env.manifests(IN_SYNC)
    text = (manifests / "in-sync.yaml").read_text(encoding="utf-8")
    head, _, _ = text.rpartition("---\n")
    (manifests / "in-sync.yaml").write_text(head, encoding="utf-8")
    env.write("settings.yaml", SCOPED_SETTINGS)
    env.emulator().set_resource(KAIYUAN_01, expire_policy=0)  # kaiyuan-saas: out of scope
    return manifests


def test_settings_scope_never_ends_in_no_changes(env: Env, scoped: Path) -> None:
    """Silent-green case 3: entries outside the scope differ, and the plan must not be green."""
    for flags in ((), ("--detailed-exitcode",)):
        result = env.run("plan", str(scoped), *flags)
        assert result.exit_code == 6, result.output
        out = result.stdout
        assert "No changes" not in out
        lines = out.splitlines()
        assert lines[2].startswith(
            f"Narrowed run: Settings spec.scope ({scoped}/settings.yaml:9:17) limits it to "
            "customers xinghe-net; resellers tianfu-cloud: 4 of 7 declared entries were not "
            "read or planned."
        )
        assert out.rstrip().endswith(
            f"Nothing to apply; 4 declared entries are outside Settings spec.scope "
            f"({scoped}/settings.yaml:9:17) and were not checked."
        )


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "github"])
def test_every_format_says_the_run_was_narrowed_at_the_top(
    env: Env, scoped: Path, fmt: str
) -> None:
    out = env.run("plan", str(scoped), "--format", fmt).stdout
    if fmt == "json":
        data = json.loads(out)
        jsonschema.Draft202012Validator(PLAN_SCHEMA).validate(data)
        assert data["scope"]["narrowed"] is True
        assert (data["scope"]["declared"], data["scope"]["excluded"]) == (7, 4)
        assert data["scope"]["outside_scope"] == 4
        assert data["summary"]["status"] == "unreachable"
        return
    first = {"text": 2, "markdown": 4, "github": 0}[fmt]
    line = out.splitlines()[first]
    assert "Narrowed run: Settings spec.scope" in line, out
    if fmt == "markdown":
        assert out.splitlines()[3] == "> [!NOTE]"
    if fmt == "github":
        assert line.startswith("::notice title=narrowed run::")


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "github"])
def test_drift_says_the_run_was_narrowed_too(env: Env, scoped: Path, fmt: str) -> None:
    result = env.run("drift", str(scoped), "--format", fmt)
    assert result.exit_code == 0, result.output
    out = result.stdout
    if fmt == "json":
        data = json.loads(out)
        jsonschema.Draft202012Validator(DRIFT_SCHEMA).validate(data)
        assert data["scope"]["narrowed"] is True and data["scope"]["outside_scope"] == 4
        return
    assert "Narrowed run: Settings spec.scope" in "\n".join(out.splitlines()[:5])
    assert "4 declared entries are outside Settings spec.scope" in out


def test_target_selects_entries_and_says_so(env: Env) -> None:
    manifests = env.manifests(IN_SYNC)
    env.emulator().set_resource(KAIYUAN_01, expire_policy=0)
    env.emulator().spend_quota(TIANFU_QUOTA, "100.00")
    both = env.run("plan", str(manifests), "--detailed-exitcode")
    assert "Plan: 2 changes" in both.stdout

    one = env.run("plan", str(manifests), "--target", "auto-renew/kaiyuan-saas")
    assert one.exit_code == 0, one.output
    assert "Narrowed run: --target auto-renew/kaiyuan-saas: 6 of 7 declared entries" in one.stdout
    assert "Plan: 1 change (1 enable)" in one.stdout
    assert "tianfu-cloud" not in one.stdout

    data = json.loads(
        env.run(
            "plan", str(manifests), "--target", "reseller/tianfu-cloud", "--format", "json"
        ).stdout
    )
    assert data["targets"] == ["reseller/tianfu-cloud"]
    assert [c["kind"] for c in data["changes"]] == ["reseller-quota"]

    in_sync = env.run("plan", str(manifests), "--target", "customer/xinghe-net")
    assert in_sync.exit_code == 0, "a target in sync is no changes: the user asked for it"
    assert "No changes" in in_sync.stdout and "Narrowed run: --target customer/xinghe-net" in (
        in_sync.stdout
    )


@pytest.mark.parametrize(
    ("target", "message"),
    [
        pytest.param(
            "customer/xinhe-net",
            "--target customer/xinhe-net matches no declared entry (did you mean "
            "'customer/xinghe-net'?)",
            id="typo",
        ),
        pytest.param(
            "custmer/xinghe-net",
            "unknown kind 'custmer' (did you mean 'customer/xinghe-net'?)",
            id="kind-typo",
        ),
        pytest.param("xinghe-net", "is not KIND/NAME", id="no-kind"),
        pytest.param(
            "reseller/xinghe-net",
            "--target reseller/xinghe-net matches no declared entry",
            id="wrong-kind",
        ),
    ],
)
def test_a_target_that_matches_nothing_is_an_error(env: Env, target: str, message: str) -> None:
    manifests = env.manifests(IN_SYNC)
    for command in ("plan", "drift", "apply"):
        extra = ("--auto-approve",) if command == "apply" else ()
        result = env.run(command, str(manifests), "--target", target, *extra)
        assert result.exit_code == 1, (command, result.output)
        assert message in result.stderr, (command, result.stderr)
    assert env.writes() == []


def test_saved_plan_seals_its_targets_and_apply_uses_them(env: Env) -> None:
    manifests = env.manifests(IN_SYNC)
    env.emulator().set_resource(KAIYUAN_01, expire_policy=0)
    env.emulator().spend_quota(TIANFU_QUOTA, "100.00")
    saved = env.root / "plan.json"
    made = env.run("plan", str(manifests), "--target", "customer/kaiyuan-saas", "--out", str(saved))
    assert made.exit_code == 0, made.output

    # The targets are part of the checksummed content: widening them is tampering.
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["targets"] == ["customer/kaiyuan-saas"]
    tampered = env.root / "tampered.json"
    tampered.write_text(json.dumps({**data, "targets": []}), encoding="utf-8")
    refused = env.run("apply", "--plan", str(tampered))
    assert refused.exit_code == 4, refused.output
    assert "modified after it was saved" in refused.stderr
    assert env.writes() == []

    usage = env.run("apply", "--plan", str(saved), "--target", "customer/xinghe-net")
    assert usage.exit_code == 1
    assert "--target is taken from the saved plan" in usage.output

    applied = env.run("apply", "--plan", str(saved))
    assert applied.exit_code == 0, applied.output
    assert [w["operation"] for w in env.writes()] == ["auto_renewal_resources"]
    rest = env.run("plan", str(manifests), "--detailed-exitcode")
    assert rest.exit_code == 2 and "Plan: 1 change (1 issue)" in rest.stdout, rest.output


def test_drift_with_a_target_checks_only_what_it_selects(env: Env) -> None:
    manifests = env.manifests(IN_SYNC)
    env.emulator().set_resource(KAIYUAN_01, expire_policy=0)
    env.emulator().spend_quota(TIANFU_QUOTA, "100.00")
    result = env.run("drift", str(manifests), "--target", "reseller/tianfu-cloud")
    assert result.exit_code == 2, result.output
    assert "Narrowed run: --target reseller/tianfu-cloud" in result.stdout.splitlines()[2]
    assert "kaiyuan" not in result.stdout and "tianfu-cloud" in result.stdout
    assert "Drift: 1 object differs (1 healable by apply, 0 manual)" in result.stdout
