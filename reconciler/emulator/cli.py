"""``emulator`` click group: serve and generate here; seed, reset, calls and the console
actions on a state file in :mod:`reconciler.emulator.cli_state`. Mounted as
``reconciler emulator ...``.

The state file defaults to ``$RECONCILER_STATE_DIR/emulator-state.json`` (``.reconciler`` in the
working directory when the variable is unset). Bad input prints one line on stderr and exits 1.
What the emulator holds (names, request paths and bodies) may come from anyone who can call it,
so every line passes :func:`reconciler.render.escape.terminal_field` (the one module outside the
emulator these commands import), and a partner access key given with ``--ak`` is shown masked.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from reconciler.emulator import cli_state
from reconciler.emulator.cli_common import (
    clean_errors,
    default_state_path,
    one_line,
    state_option,
)
from reconciler.emulator.credentials import DEFAULT_CREDENTIALS, EmulatorCredentials


def _rate_limit(value: float) -> float:
    """``--rate-limit``: a finite number >= 0 (``nan`` would pass ``value < 0`` and ``inf`` is no
    rate)."""
    if not math.isfinite(value) or value < 0:
        raise click.BadParameter(f"{value!r} is not a finite number >= 0 (0 = unlimited)")
    return value


def _seconds(value: float | None) -> float | None:
    """``--latency-*``: a finite number of seconds >= 0 (or unset)."""
    if value is not None and (not math.isfinite(value) or value < 0):
        raise click.BadParameter(f"{value!r} is not a finite number of seconds >= 0")
    return value


def _masked(ak: str) -> str:
    return f"{ak[:4]}…{ak[-4:]}" if len(ak) > 8 else "***"


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
@state_option
@click.option(
    "--in-memory",
    is_flag=True,
    help="Keep the state in memory only (no state file): fastest; lost when the server stops.",
)
@click.option(
    "--seed",
    "seed_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Start from this seed: it replaces the state file's content if the file exists "
    "(said on start). Without it an existing state file is served as it is, and a missing one "
    "is created from the demo seed. `reconciler emulator generate` writes large ones.",
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
@click.option(
    "--latency-median",
    type=float,
    callback=lambda _ctx, _param, value: _seconds(value),
    default=0.0,
    show_default=True,
    help="Median seconds each answer takes (log-normal; 0 = answer at once).",
)
@click.option(
    "--latency-p99",
    type=float,
    callback=lambda _ctx, _param, value: _seconds(value),
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
    with clean_errors():
        doc = seeds.load_document(seed_file or seeds.DEMO_SEED_PATH)
        if domain_id:
            doc["partner"] = {**doc.get("partner", {}), "domain_id": domain_id}
        extra = [EmulatorCredentials(ak, sk)] if ak and sk else []
        shown_ak = _masked(ak) if ak else DEFAULT_CREDENTIALS.ak
        path = None if in_memory else state_file or default_state_path()
        existed = path is not None and path.exists()

        def ready(server: Any) -> None:
            if seed_file is not None and existed:
                server.emulator.load_seed(doc)
            click.echo(one_line(_state_note(path, seed_file, existed)), err=True)
            click.echo(f"emulator listening on {one_line(server.url)} (partner AK {shown_ak})")

        serve(host, port, state_file=path, seed=doc, credentials=extra, rate_limit=rate_limit,
              latency=latency, ready=ready, allowed_hosts=allowed_hosts)  # fmt: skip


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
    with clean_errors():
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


def _state_note(path: Path | None, seed_file: Path | None, existed: bool) -> str:
    """What ``serve`` starts from, said once: never a silently ignored --seed."""
    if path is None:
        return f"state in memory only (--in-memory): from the {seed_file or 'demo'} seed"
    if seed_file is not None and existed:
        return f"state {path}: replaced by the seed {seed_file} (--seed)"
    if seed_file is not None:
        return f"state {path}: created from the seed {seed_file}"
    if existed:
        return f"state {path}: serving it as it is (--seed FILE starts from a seed instead)"
    return f"state {path}: created from the demo seed"


for _command in cli_state.COMMANDS:
    emulator.add_command(_command)
