"""No mistake ends green: every declared state matches live data or the plan says why not, at
its file:line:col, with a "did you mean" from the live account (issue 11)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator import DEFAULT_DOMAIN_ID
from reconciler.emulator.credentials import DEFAULT_CREDENTIALS
from reconciler.emulator.seed import DEMO_SEED_PATH, load_document
from reconciler.emulator.server import EmulatorServer, make_server
from reconciler.errors import did_you_mean

from .conftest import IN_SYNC, Env

HEADER = "apiVersion: partner-reconciler/v1\n"
SETTINGS = (
    HEADER
    + """kind: Settings
metadata: {name: settings}
spec:
  agencyName: demo_distributor_platform
  accountManagers: [zhang.wei, li.na, wang.fang]
"""
)
HAINA_DATASETS = "2a0f3bb1-7d56-5d0e-9a1b-0a3f2c1e4b77"


def plan(env: Env, text: str, *flags: str, settings: str | None = SETTINGS) -> tuple[int, str]:
    path = env.write("main.yaml", text)
    if settings is not None:
        env.write("settings.yaml", settings)
    result = env.run("plan", str(path.parent), "--detailed-exitcode", *flags)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_a_mistyped_service_type_is_an_error_with_did_you_mean(env: Env) -> None:
    """Silent-green case 1: hws.service.type.osb (for obs) matched nothing and planned nothing."""
    code, out = plan(
        env,
        HEADER
        + """kind: AutoRenew
metadata: {name: renew}
spec:
  customers:
    - customer: haina-data
      serviceTypes:
        hws.service.type.osb: false
""",
    )
    assert code == 1, out
    path = env.root / "manifests" / "main.yaml"
    assert (
        f"{path}:8:9: serviceTypes.hws.service.type.osb: customer haina-data "
        "(b074af1606988abdddec41d09327c6a9) has no yearly/monthly main resource of service type "
        "'hws.service.type.osb' (did you mean 'hws.service.type.obs'?); its service types: "
        "hws.service.type.dcs, hws.service.type.ec2, hws.service.type.obs"
    ) in out
    assert "No changes" not in out


def test_a_resource_id_that_matches_nothing_is_an_error(env: Env) -> None:
    code, out = plan(
        env,
        HEADER
        + """kind: AutoRenew
metadata: {name: renew}
spec:
  customers:
    - customer: jinqiao-logistics
      resources:
        jq-tms-app: true
        "ffffffff-ffff-ffff-ffff-ffffffffffff": false
""",
    )
    assert code == 1, out
    assert "resources.jq-tms-app: customer jinqiao-logistics" in out
    assert "has no yearly/monthly main resource 'jq-tms-app' (did you mean" in out
    assert ", the ID of 'jq-tms-app'?)" in out, "a resource name written where the ID belongs"
    assert "resources.ffffffff-ffff-ffff-ffff-ffffffffffff:" in out
    assert "2 manifest problems found." in out


def test_a_closed_resource_override_is_an_error(env: Env) -> None:
    resource = "8802e8c9-b42b-5e38-9852-d1b85b3b5dd4"  # xinghe-web-01
    env.emulator().set_resource(resource, status=3)
    code, out = plan(
        env,
        HEADER
        + f"""kind: AutoRenew
metadata: {{name: renew}}
spec:
  customers:
    - customer: xinghe-net
      resources:
        "{resource}": true
""",
    )
    assert code == 1, out
    assert f"resource '{resource}' of customer xinghe-net" in out and "is closed" in out


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        pytest.param(
            "{customer: xinhge-net, manager: zhang.wei}",
            "customer: no customer 'xinhge-net' in the partner account (did you mean "
            "'xinghe-net'?)",
            id="customer-typo",
        ),
        pytest.param(
            "{customerId: xinghe-net, manager: zhang.wei}",
            "customerId: no customer 'xinghe-net' in the partner account (did you mean "
            "`customer: xinghe-net`, an account name?)",
            id="name-as-id",
        ),
        pytest.param(
            "{customer: ed0e5914c5e5fc0a8a8d3bcc812f2330, manager: zhang.wei}",
            "customer: no customer 'ed0e5914c5e5fc0a8a8d3bcc812f2330' in the partner account "
            '(did you mean `customerId: "ed0e5914c5e5fc0a8a8d3bcc812f2330"`, an ID?)',
            id="id-as-name",
        ),
    ],
)
def test_unknown_customers_get_a_did_you_mean(env: Env, entry: str, expected: str) -> None:
    code, out = plan(
        env,
        HEADER + "kind: AccountManagers\nmetadata: {name: m}\nspec:\n  customers:\n"
        f"    - {entry}\n",
    )
    assert code == 1, out
    assert "main.yaml:6:" in out and expected in out


def quota_manifest(quota: str, reseller: str) -> str:
    return (
        HEADER + "kind: ResellerQuota\nmetadata: {name: q}\nspec:\n"
        f'  distributorQuota: "{quota}"\n  resellers:\n'
        f'    - {{reseller: {reseller}, balance: "30000.00"}}\n'
    )


def test_unknown_reseller_gets_a_did_you_mean(env: Env) -> None:
    code, out = plan(env, quota_manifest("2025063010300118", "tianfu-clod"))
    assert code == 1, out
    assert "no reseller 'tianfu-clod' in the partner account (did you mean 'tianfu-cloud'?)" in out


def test_a_manager_of_other_customers_is_known_without_the_roster(env: Env) -> None:
    """The false "no customer has it": chen.jie manages haina-data and taihe-finance, which
    the manifests do not mention, and the roster lacks chen.jie."""
    code, out = plan(
        env,
        HEADER + "kind: AccountManagers\nmetadata: {name: m}\nspec:\n  customers:\n"
        "    - {customer: xinghe-net, manager: chen.jie}\n",
    )
    assert code == 2, out
    assert "account manager zhang.wei -> chen.jie" in out
    assert "unknown account manager" not in out


def test_a_manager_nobody_has_is_unknown_with_did_you_mean(env: Env) -> None:
    code, out = plan(
        env,
        HEADER + "kind: AccountManagers\nmetadata: {name: m}\nspec:\n  customers:\n"
        "    - {customer: xinghe-net, manager: chen.jei}\n",
    )
    assert code == 1, out
    assert (
        "manager: unknown account manager 'chen.jei' (did you mean 'chen.jie'?): no customer "
        "or reseller of the partner account has it" in out
    )


def test_known_managers_cost_no_extra_call(env: Env) -> None:
    manifests = env.manifests(IN_SYNC)
    env.emulator().clear_call_log()
    assert env.run("plan", str(manifests)).exit_code == 0
    calls = [c["operation"] for c in env.emulator().call_log()]
    assert calls.count("list_sub_customers") == 1, "one probe page resolves all four customers"
    assert "list_indirect_partners" in calls  # the resellers of the quota targets, nothing more


@pytest.fixture
def served(tmp_path: Path) -> Iterator[EmulatorServer]:
    srv = make_server(
        "127.0.0.1",
        0,
        state_file=tmp_path / "served.json",
        seed=load_document(DEMO_SEED_PATH),
        rate_limit=0,
    )
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("mode", ["embedded", "served"])
def test_no_agency_name_is_an_error_in_every_mode(
    env: Env, mode: str, served: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Silent-green case 2: without an agency name the embedded emulator used to fill one in
    and the served one said "No changes"; both now stop at the AutoRenew entry."""
    if mode == "served":
        monkeypatch.setenv("RECONCILER_ENDPOINT", served.url)
        monkeypatch.setenv("HUAWEICLOUD_SDK_AK", DEFAULT_CREDENTIALS.ak)
        monkeypatch.setenv("HUAWEICLOUD_SDK_SK", DEFAULT_CREDENTIALS.sk)
        monkeypatch.setenv("HUAWEICLOUD_SDK_DOMAIN_ID", DEFAULT_DOMAIN_ID)
    renew = HEADER + (
        "kind: AutoRenew\nmetadata: {name: r}\nspec:\n  customers:\n"
        "    - customer: xinghe-net\n      autoRenew: false\n"
    )
    code, out = plan(env, renew, settings=None)
    assert code == 1, out
    path = env.root / "manifests" / "main.yaml"
    assert (
        f"{path}:6:7: AutoRenew of customer 'xinghe-net' needs the IAM agency your customers "
        "granted you, and no agency name is configured: set Settings spec.agencyName or the "
        "environment variable RECONCILER_AGENCY_NAME"
    ) in out
    assert "No changes" not in out
    drift = env.run("drift", str(path))
    assert drift.exit_code == 1 and "no agency name is configured" in drift.output
    monkeypatch.setenv("RECONCILER_AGENCY_NAME", "demo_distributor_platform")
    code, out = plan(env, renew, settings=None)
    assert code == 2 and "disable" in out, out


def test_unreachable_states_are_never_no_changes(env: Env) -> None:
    """Nothing to apply, but a customer has not granted the agency: exit 6 and the list."""
    code, out = plan(
        env,
        HEADER + "kind: AutoRenew\nmetadata: {name: r}\nspec:\n  customers:\n"
        "    - customer: lingyun-games\n      autoRenew: true\n",
    )
    assert code == 6, out
    lines = out.rstrip().splitlines()
    assert lines[-2] == "Nothing to apply; 1 declared state cannot be reached."
    assert lines[-1].startswith("  ? auto-renew lingyun-game-srv [ec2 cn-south-1] of lingyun")
    assert lines[-1].endswith("main.yaml:7:18)")
    plain = env.run("plan", str(env.root / "manifests"))
    assert plain.exit_code == 6, "with or without --detailed-exitcode"
    drift = env.run("drift", str(env.root / "manifests"))
    assert drift.exit_code == 2
    assert "Drift: 1 object differs (0 healable by apply, 0 manual, 1 apply cannot reach)" in (
        drift.stdout
    )
    applied = env.run("apply", str(env.root / "manifests"), "--auto-approve")
    assert applied.exit_code == 6, applied.output
    assert "nothing was applied, and declared states cannot be reached" in applied.stderr
    assert "No changes" not in applied.output


def test_a_long_customer_listing_is_not_read_for_a_suggestion(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond SUGGEST_PAGES pages, a few fuzzy name queries stand in for the whole listing."""
    monkeypatch.setattr("reconciler.plan.census.SUGGEST_PAGES", 0)
    env.emulator().clear_call_log()
    code, out = plan(
        env,
        HEADER + "kind: AccountManagers\nmetadata: {name: m}\nspec:\n  customers:\n"
        "    - {customer: xinhge-net, manager: zhang.wei}\n",
    )
    assert code == 1 and "(did you mean 'xinghe-net'?)" in out, out
    queries = [c for c in env.emulator().call_log() if c["operation"] == "list_sub_customers"]
    # the lookup, the first page (which tells the total), then fragments xin, net, xinhge
    assert len(queries) <= 5, queries


def test_unknown_distributor_quota_gets_a_did_you_mean(env: Env) -> None:
    code, out = plan(env, quota_manifest("2025063010300119", "tianfu-cloud"))
    assert code == 1, out
    assert (
        "main.yaml:5:21: distributorQuota: unknown distributor quota '2025063010300119' "
        "(did you mean '2025063010300118'?)"
    ) in out


@pytest.mark.parametrize(
    ("word", "options", "hint"),
    [
        pytest.param("xinhge-net", ["xinghe-net", "haina-data"], " (did you mean 'xinghe-net'?)"),
        pytest.param("XINGHE-NET", ["xinghe-net"], " (did you mean 'xinghe-net'?)", id="case"),
        pytest.param("zzz", ["xinghe-net"], "", id="nothing-close"),
        pytest.param("xinghe-net", ["xinghe-net"], "", id="itself"),
        pytest.param(
            "xinghe-net",
            ["xinghe-net\n::x"],
            " (did you mean 'xinghe-net\\n::x'?)",
            id="a-hostile-live-name-stays-on-one-line",
        ),
    ],
)
def test_did_you_mean(word: str, options: list[str], hint: str) -> None:
    assert did_you_mean(word, options) == hint
