"""``emulator`` click group: serve, seed, reset, calls, assign-manager. Mounted as
``reconciler emulator ...``.

The state file defaults to ``$RECONCILER_STATE_DIR/emulator-state.json`` (``.reconciler`` in the
working directory when the variable is unset). Bad input prints one line on stderr and exits 1.
What the emulator holds (names, request paths and bodies) may come from anyone who can call it,
so every line passes :func:`reconciler.render.escape.terminal_field` (the one module outside the
emulator it imports), and a partner access key given with ``--ak`` is shown masked.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from reconciler.emulator.credentials import DEFAULT_CREDENTIALS, EmulatorCredentials
from reconciler.emulator.errors import ControlError, SeedError
from reconciler.emulator.state import StateFileError
from reconciler.render.escape import for_output, terminal_field

STATE_FILE_NAME = "emulator-state.json"


def _rate_limit(value: float) -> float:
    """``--rate-limit``: a finite number >= 0 (``nan`` would pass ``value < 0`` and ``inf`` is no
    rate)."""
    if not math.isfinite(value) or value < 0:
        raise click.BadParameter(f"{value!r} is not a finite number >= 0 (0 = unlimited)")
    return value


def default_state_path() -> Path:
    return Path(os.environ.get("RECONCILER_STATE_DIR") or ".reconciler") / STATE_FILE_NAME


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Turn expected failures into one line on stderr and exit status 1."""
    try:
        yield
    except SeedError as err:
        click.echo(
            f"error: {err.source}: " + "; ".join(_one_line(p) for p in err.problems), err=True
        )
        sys.exit(1)
    except (StateFileError, ControlError) as err:
        click.echo(f"error: {_one_line(str(err))}", err=True)
        sys.exit(1)
    except OSError as err:
        click.echo(f"error: {_one_line(err.strerror or err)}", err=True)
        sys.exit(1)


def _one_line(text: object) -> str:
    return terminal_field(" ".join(str(text).split()))


def _masked(ak: str) -> str:
    return f"{ak[:4]}…{ak[-4:]}" if len(ak) > 8 else "***"


_state_option = click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"State file (default: $RECONCILER_STATE_DIR/{STATE_FILE_NAME}).",
)


@click.group("emulator")
def emulator() -> None:
    """Run and manage the local emulator of the Huawei Cloud partner API.

    Without --endpoint every reconciler command uses the embedded emulator, whose state is in
    $RECONCILER_STATE_DIR/emulator-state.json (default .reconciler/). See
    reconciler/emulator/README.md for the seed format, control plane and faults.

    \b
    Examples:
      reconciler emulator reset --demo
      reconciler emulator serve --port 8765
      reconciler emulator calls --operation update_coupon_quotas
    """


@emulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@_state_option
@click.option(
    "--seed",
    "seed_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Start from this seed: it replaces the state file's content if the file exists "
    "(said on start). Without it an existing state file is served as it is, and a missing one "
    "is created from the demo seed.",
)
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Also answer the control plane (/_emulator/) for requests to this host name "
    "(repeatable). Without it: localhost, loopback addresses and the --host address only.",
)
@click.option("--ak", help="An extra partner access key to accept (needs --sk).")
@click.option("--sk", help="Its secret key.")
@click.option("--domain-id", help="The partner's domain id when the state is created.")
@click.option(
    "--rate-limit",
    default=10.0,
    show_default=True,
    type=float,
    callback=lambda _ctx, _param, value: _rate_limit(value),
    help="Requests per second per account and operation (0 = unlimited).",
)
def serve_command(
    *,
    host: str,
    port: int,
    state_file: Path | None,
    seed_file: Path | None,
    ak: str | None,
    sk: str | None,
    domain_id: str | None,
    rate_limit: float,
    allowed_hosts: tuple[str, ...],
) -> None:
    """Serve the emulator over HTTP until interrupted.

    It says on start what it serves: the state file as it is, or (with --seed, or when the
    file is missing) a fresh state from a seed, replacing the file's content.

    Default credentials: AK HPUAEMUPARTNER000001 with the SK in reconciler/emulator/README.md
    (never use them anywhere else).

    \b
    Examples:
      reconciler emulator serve
      reconciler emulator serve --port 0 --state /tmp/emu.json --seed examples/emulator-seed.yaml
      reconciler emulator serve --ak MYTESTAK --sk my-test-sk --rate-limit 0
    """
    from reconciler.emulator import seed as seeds
    from reconciler.emulator.server import serve

    if (ak is None) != (sk is None):
        raise click.UsageError("--ak and --sk go together")
    with _clean_errors():
        doc = seeds.load_document(seed_file or seeds.DEMO_SEED_PATH)
        if domain_id:
            doc["partner"] = {**doc.get("partner", {}), "domain_id": domain_id}
        extra = [EmulatorCredentials(ak, sk)] if ak and sk else []
        shown_ak = _masked(ak) if ak else DEFAULT_CREDENTIALS.ak
        path = state_file or default_state_path()
        existed = path.exists()

        def ready(server: Any) -> None:
            if seed_file is not None and existed:
                server.emulator.load_seed(doc)
            click.echo(_one_line(_state_note(path, seed_file, existed)), err=True)
            click.echo(f"emulator listening on {_one_line(server.url)} (partner AK {shown_ak})")

        serve(host, port, state_file=path, seed=doc, credentials=extra, rate_limit=rate_limit,
              ready=ready, allowed_hosts=allowed_hosts)  # fmt: skip


def _state_note(path: Path, seed_file: Path | None, existed: bool) -> str:
    """What ``serve`` starts from, said once: never a silently ignored --seed."""
    if seed_file is not None and existed:
        return f"state {path}: replaced by the seed {seed_file} (--seed)"
    if seed_file is not None:
        return f"state {path}: created from the seed {seed_file}"
    if existed:
        return f"state {path}: serving it as it is (--seed FILE starts from a seed instead)"
    return f"state {path}: created from the demo seed"


def _with_emulator(state_file: Path | None, action: Callable[[Any], None]) -> None:
    from reconciler.emulator.core import Emulator

    with _clean_errors():
        action(Emulator(state_file=state_file or default_state_path()))


@emulator.command("seed")
@click.argument("seed_file", type=click.Path(dir_okay=False, path_type=Path))
@_state_option
def seed_command(seed_file: Path, state_file: Path | None) -> None:
    """Replace the emulator state with SEED_FILE (YAML or JSON).

    \b
    Example:
      reconciler emulator seed examples/emulator-seed.yaml
    """
    _with_emulator(state_file, lambda emu: emu.load_seed(seed_file))
    where = _one_line(state_file or default_state_path())
    click.echo(f"seeded {where} from {_one_line(seed_file)}")


@emulator.command("reset")
@_state_option
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
    _with_emulator(state_file, lambda emu: emu.reset(DEMO_SEED_PATH if demo else seed_file))
    click.echo(f"reset {_one_line(state_file or default_state_path())}")


@emulator.command("calls")
@_state_option
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
    _with_emulator(state_file, lambda emu: found.extend(emu.call_log(operation)))
    t = _one_line
    for call in found:
        if as_json:
            click.echo(for_output(json.dumps(call, sort_keys=True), "json"))
            continue
        fault = f" fault={t(','.join(call['fault']))}" if call.get("fault") else ""
        code = f" {t(call['error_code'])}" if call.get("error_code") else ""
        status = call["status"] if call["status"] is not None else "dropped"
        click.echo(f"{call['seq']:>6} {t(call['time'])} {t(call['operation'] or '-')} "
                   f"{t(call['method'])} {t(call['path'])} -> {status}{code}{fault}")  # fmt: skip


@emulator.command("assign-manager")
@click.argument("customer_id")
@click.argument("manager", required=False)
@click.option("--none", "remove", is_flag=True, help="Remove the customer's account manager.")
@_state_option
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
    _with_emulator(state_file, lambda emu: emu.set_account_manager(customer_id, manager))
    shown = _one_line(manager or "(none)")
    click.echo(f"customer {_one_line(customer_id)}: account manager {shown}")


@emulator.command("grant-agency")
@click.argument("customer_id")
@click.option("--revoke", is_flag=True, help="Withdraw the agency instead.")
@_state_option
def grant_agency_command(customer_id: str, revoke: bool, state_file: Path | None) -> None:
    """The customer grants the partner's agency (or --revoke it), as they would in their console.

    Until a customer has granted it, the partner cannot act for the customer (auto-renew).

    \b
    Examples:
      reconciler emulator grant-agency 1e7b4d0f27f893eeb9e53607e347368e
      reconciler emulator grant-agency 1e7b4d0f27f893eeb9e53607e347368e --revoke
    """
    _with_emulator(state_file, lambda emu: emu.set_agency(customer_id, not revoke))
    click.echo(f"customer {_one_line(customer_id)}: agency {'revoked' if revoke else 'granted'}")


@emulator.command("renew-resource")
@click.argument("resource_id")
@click.option(
    "--until",
    "until",
    required=True,
    metavar="TIME",
    help="The new expiry (UTC), e.g. 2030-01-01T00:00:00Z.",
)
@_state_option
def renew_resource_command(resource_id: str, until: str, state_file: Path | None) -> None:
    """The customer renews an expired or frozen resource: in use again until TIME.

    \b
    Example:
      reconciler emulator renew-resource 1cb1d44c-7ca5-5a32-8fa9-7c6670a1db44 \\
        --until 2030-01-01T00:00:00Z
    """
    _with_emulator(
        state_file, lambda emu: emu.set_resource(resource_id, status=2, expire_time=until)
    )
    click.echo(f"resource {_one_line(resource_id)}: in use until {_one_line(until)}")
