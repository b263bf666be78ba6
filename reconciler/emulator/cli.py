"""``emulator`` click group: serve, generate, seed, reset, calls, assign-manager. Mounted as
``reconciler emulator ...``.

The state file defaults to ``$RECONCILER_STATE_DIR/emulator-state.json`` (``.reconciler`` in the
working directory when the variable is unset). Bad input prints one line on stderr and exits 1.
"""

from __future__ import annotations

import json
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

STATE_FILE_NAME = "emulator-state.json"


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
        click.echo(f"error: {err.strerror or err}", err=True)
        sys.exit(1)


def _one_line(text: str) -> str:
    return " ".join(text.split())


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
      reconciler emulator reset --seed examples/emulator-seed.yaml
      reconciler emulator serve --port 8765
      reconciler emulator calls --operation update_coupon_quotas
    """


@emulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@_state_option
@click.option(
    "--in-memory",
    is_flag=True,
    help="Keep the state in memory only (no state file): fastest; lost when the server stops.",
)
@click.option(
    "--seed",
    "seed_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Seed applied when the state file is absent, or with --in-memory (default: the demo "
    "seed). `reconciler emulator generate` writes large ones.",
)
@click.option("--ak", help="An extra partner access key to accept (needs --sk).")
@click.option("--sk", help="Its secret key.")
@click.option("--domain-id", help="The partner's domain id when the state is created.")
@click.option(
    "--rate-limit",
    default=10.0,
    show_default=True,
    type=float,
    help="Requests per second per account and operation (0 = unlimited).",
)
@click.option(
    "--latency-median",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Median seconds each answer takes (log-normal; 0 = answer at once).",
)
@click.option(
    "--latency-p99",
    type=click.FloatRange(min=0),
    default=None,
    help="99th percentile of the answer time in seconds (default: the median, i.e. constant).",
)
def serve_command(
    *,
    host: str,
    port: int,
    state_file: Path | None,
    in_memory: bool,
    seed_file: Path | None,
    ak: str | None,
    sk: str | None,
    domain_id: str | None,
    rate_limit: float,
    latency_median: float,
    latency_p99: float | None,
) -> None:
    """Serve the emulator over HTTP until interrupted.

    Default credentials: AK HPUAEMUPARTNER000001 with the SK in reconciler/emulator/README.md
    (never use them anywhere else).

    \b
    Examples:
      reconciler emulator serve
      reconciler emulator serve --port 0 --state /tmp/emu.json --seed examples/emulator-seed.yaml
      reconciler emulator serve --ak MYTESTAK --sk my-test-sk --rate-limit 0
      reconciler emulator generate --customers 2000 /tmp/partner.json
      reconciler emulator serve --in-memory --seed /tmp/partner.json \\
          --latency-median 0.12 --latency-p99 0.3
    """
    from reconciler.emulator import seed as seeds
    from reconciler.emulator.latency import LatencyModel
    from reconciler.emulator.server import serve

    if (ak is None) != (sk is None):
        raise click.UsageError("--ak and --sk go together")
    if in_memory and state_file is not None:
        raise click.UsageError("--in-memory and --state exclude each other")
    p99 = latency_median if latency_p99 is None else latency_p99
    if p99 < latency_median:
        raise click.UsageError("--latency-p99 must not be below --latency-median")
    latency = LatencyModel(median=latency_median, p99=p99) if latency_median > 0 else None
    with _clean_errors():
        doc = seeds.load_document(seed_file or seeds.DEMO_SEED_PATH)
        if domain_id:
            doc["partner"] = {**doc.get("partner", {}), "domain_id": domain_id}
        extra = [EmulatorCredentials(ak, sk)] if ak and sk else []
        shown_ak = ak or DEFAULT_CREDENTIALS.ak
        where = None if in_memory else state_file or default_state_path()

        def ready(server: Any) -> None:
            click.echo(f"emulator listening on {server.url} (partner AK {shown_ak})")

        serve(host, port, state_file=where, seed=doc, credentials=extra, rate_limit=rate_limit,
              latency=latency, ready=ready)  # fmt: skip


@emulator.command("generate")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--customers", type=click.IntRange(min=0), required=True, help="How many customers.")
@click.option(
    "--resellers", type=click.IntRange(min=0), default=500, show_default=True, help="Resellers."
)
@click.option(
    "--quotas",
    type=click.IntRange(min=0),
    default=2000,
    show_default=True,
    help="Coupon quotas issued to the resellers (at least one each).",
)
@click.option(
    "--random-seed", type=int, default=0, show_default=True, help="The same seed, the same partner."
)
def generate_command(
    out: Path, customers: int, resellers: int, quotas: int, random_seed: int
) -> None:
    """Write a large generated partner to OUT as a seed (JSON), for load tests and benchmarks.

    The partner is the benchmark's (reconciler/emulator/README.md, "Large generated partners"):
    about 5 yearly/monthly resources per customer, a few customers with 600-2,000, resellers
    holding issued coupon quotas, deterministic from --random-seed.

    \b
    Examples:
      reconciler emulator generate --customers 100000 /tmp/partner-100k.json
      reconciler emulator serve --in-memory --rate-limit 0 --seed /tmp/partner-100k.json
    """
    from reconciler.emulator.generate import generate_partner

    if resellers == 0 and quotas:
        raise click.UsageError("issued quotas need at least one reseller (--resellers)")
    with _clean_errors():
        gen = generate_partner(customers, resellers=resellers, quotas=quotas, seed=random_seed)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(gen.seed_document(), handle, ensure_ascii=False, separators=(",", ":"))
        tmp.replace(out)
    click.echo(
        f"wrote {out}: {customers:,} customers, {gen.n_resources:,} resources, "
        f"{len(gen.state.resellers):,} resellers, {quotas:,} issued quotas"
    )


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
    click.echo(f"seeded {state_file or default_state_path()} from {seed_file}")


@emulator.command("reset")
@_state_option
@click.option(
    "--seed",
    "seed_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Seed to apply after clearing (default: the partner only, no data).",
)
def reset_command(state_file: Path | None, seed_file: Path | None) -> None:
    """Clear the emulator state (and apply --seed FILE if given).

    \b
    Example:
      reconciler emulator reset --seed examples/emulator-seed.yaml
    """
    _with_emulator(state_file, lambda emu: emu.reset(seed_file))
    click.echo(f"reset {state_file or default_state_path()}")


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
    for call in found:
        if as_json:
            click.echo(json.dumps(call, ensure_ascii=False, sort_keys=True))
            continue
        fault = f" fault={','.join(call['fault'])}" if call.get("fault") else ""
        code = f" {call['error_code']}" if call.get("error_code") else ""
        status = call["status"] if call["status"] is not None else "dropped"
        click.echo(f"{call['seq']:>6} {call['time']} {call['operation'] or '-'} "
                   f"{call['method']} {call['path']} -> {status}{code}{fault}")  # fmt: skip


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
    click.echo(f"customer {customer_id}: account manager {manager or '(none)'}")
