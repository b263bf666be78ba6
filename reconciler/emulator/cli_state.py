"""The ``reconciler emulator`` commands that act on a state file: seed, reset, calls, and the
console actions a person would take (assign-manager, grant-agency, renew-resource)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from reconciler.emulator.cli_common import default_state_path, one_line, state_option, with_emulator
from reconciler.render.escape import for_output


@click.command("seed")
@click.argument("seed_file", type=click.Path(dir_okay=False, path_type=Path))
@state_option
def seed_command(seed_file: Path, state_file: Path | None) -> None:
    """Replace the emulator state with SEED_FILE (YAML or JSON).

    \b
    Example:
      reconciler emulator seed examples/emulator-seed.yaml
    """
    with_emulator(state_file, lambda emu: emu.load_seed(seed_file))
    where = one_line(state_file or default_state_path())
    click.echo(f"seeded {where} from {one_line(seed_file)}")


@click.command("reset")
@state_option
@click.option(
    "--seed",
    "seed_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Seed to apply after clearing (default: the partner only, no data).",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Apply the demo seed shipped in the package (= examples/emulator-seed.yaml).",
)
def reset_command(state_file: Path | None, seed_file: Path | None, demo: bool) -> None:
    """Clear the emulator state (and apply --seed FILE or the --demo seed if given).

    \b
    Examples:
      reconciler emulator reset --demo
      reconciler emulator reset --seed examples/emulator-seed.yaml
    """
    from reconciler.emulator.seed import DEMO_SEED_PATH

    if demo and seed_file is not None:
        raise click.UsageError("give either --seed FILE or --demo")
    with_emulator(state_file, lambda emu: emu.reset(DEMO_SEED_PATH if demo else seed_file))
    click.echo(f"reset {one_line(state_file or default_state_path())}")


@click.command("calls")
@state_option
@click.option("--operation", help="Only calls of this operation (e.g. update_coupon_quotas).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def calls_command(state_file: Path | None, operation: str | None, as_json: bool) -> None:
    """Show the emulator's call log.

    \b
    Examples:
      reconciler emulator calls
      reconciler emulator calls --operation reclaim_coupon_quotas --json
    """
    found: list[dict[str, Any]] = []
    with_emulator(state_file, lambda emu: found.extend(emu.call_log(operation)))
    t = one_line
    for call in found:
        if as_json:
            click.echo(for_output(json.dumps(call, sort_keys=True), "json"))
            continue
        fault = f" fault={t(','.join(call['fault']))}" if call.get("fault") else ""
        code = f" {t(call['error_code'])}" if call.get("error_code") else ""
        status = call["status"] if call["status"] is not None else "dropped"
        click.echo(f"{call['seq']:>6} {t(call['time'])} {t(call['operation'] or '-')} "
                   f"{t(call['method'])} {t(call['path'])} -> {status}{code}{fault}")  # fmt: skip


@click.command("assign-manager")
@click.argument("customer_id")
@click.argument("manager", required=False)
@click.option("--none", "remove", is_flag=True, help="Remove the customer's account manager.")
@state_option
def assign_manager_command(
    customer_id: str, manager: str | None, remove: bool, state_file: Path | None
) -> None:
    """Assign MANAGER to CUSTOMER_ID (or --none), as a person would in Partner Center.

    The console action the public API does not offer (REFERENCE section 8); demos and tests use
    it to play the person who carries out the manual steps of an apply.

    \b
    Examples:
      reconciler emulator assign-manager 8b465a3f89f3c847bf335bcbb874b004 wang.fang
      reconciler emulator assign-manager 9e52d0fb25418c4642ffe89f2e73dbaf --none
    """
    if remove == (manager is not None):
        raise click.UsageError("give either MANAGER or --none")
    with_emulator(state_file, lambda emu: emu.set_account_manager(customer_id, manager))
    shown = one_line(manager or "(none)")
    click.echo(f"customer {one_line(customer_id)}: account manager {shown}")


@click.command("grant-agency")
@click.argument("customer_id")
@click.option("--revoke", is_flag=True, help="Withdraw the agency instead.")
@state_option
def grant_agency_command(customer_id: str, revoke: bool, state_file: Path | None) -> None:
    """The customer grants the partner's agency (or --revoke it), as they would in their console.

    Until a customer has granted it, the partner cannot act for the customer (auto-renew).

    \b
    Examples:
      reconciler emulator grant-agency 1e7b4d0f27f893eeb9e53607e347368e
      reconciler emulator grant-agency 1e7b4d0f27f893eeb9e53607e347368e --revoke
    """
    with_emulator(state_file, lambda emu: emu.set_agency(customer_id, not revoke))
    click.echo(f"customer {one_line(customer_id)}: agency {'revoked' if revoke else 'granted'}")


@click.command("renew-resource")
@click.argument("resource_id")
@click.option(
    "--until",
    "until",
    required=True,
    metavar="TIME",
    help="The new expiry (UTC), e.g. 2030-01-01T00:00:00Z.",
)
@state_option
def renew_resource_command(resource_id: str, until: str, state_file: Path | None) -> None:
    """The customer renews an expired or frozen resource: in use again until TIME.

    \b
    Example:
      reconciler emulator renew-resource 1cb1d44c-7ca5-5a32-8fa9-7c6670a1db44 \\
        --until 2030-01-01T00:00:00Z
    """
    with_emulator(
        state_file, lambda emu: emu.set_resource(resource_id, status=2, expire_time=until)
    )
    click.echo(f"resource {one_line(resource_id)}: in use until {one_line(until)}")


#: Mounted on the ``emulator`` group by :mod:`reconciler.emulator.cli`.
COMMANDS = (
    seed_command,
    reset_command,
    calls_command,
    assign_manager_command,
    grant_agency_command,
    renew_resource_command,
)
