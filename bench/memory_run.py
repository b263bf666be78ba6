"""``python -m bench.memory_run DIR CUSTOMERS``: run ``reconciler plan DIR`` in this process against
the endpoint in the environment, and print its memory as JSON.

The benchmark runs it in a fresh process against the served emulator (another process), so the
figures are the reconciler's alone: ``baseline`` is the resident set once the command's modules
are imported, ``peak`` the process's high-water mark (``VmHWM``) when the plan has been printed.
The plan's text goes to ``/dev/null``.

``python -m bench.memory_run --customers N``: the memory part of :mod:`bench.real_http` alone
(its section 3): generate an N-customer partner, serve it in memory, write the YAML manifests
of all its customers, and run the above in a fresh process against it.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import sys
import time
from pathlib import Path


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def alone(customers: int, seed: int = 1) -> dict[str, object]:
    """Section 3 of :mod:`bench.real_http` on its own, as it runs it."""
    import tempfile

    from reconciler.emulator.generate import generate_partner

    from . import served, workload

    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        seed_file = Path(tmp) / "partner.json"
        served.generate(customers, seed_file, seed)
        manifests = Path(tmp) / "manifests"
        workload.write_manifests(generate_partner(customers, seed=seed), manifests)
        with served.serve(seed_file) as (url, _ready):
            env = served.credentials_env(url, rate=1000.0)
            args = ["bench.memory_run", str(manifests), str(customers)]
            return served.run_json(args, env=env)


def main() -> int:
    if sys.argv[1] == "--customers":
        print(json.dumps(alone(int(sys.argv[2]))))
        return 0
    directory, customers = sys.argv[1], int(sys.argv[2])
    from click.testing import CliRunner  # noqa: F401 - imported before the baseline, as click is

    import reconciler.cli.workflow  # noqa: F401 - everything plan imports, before the baseline
    from reconciler.cli.main import main as cli

    gc.collect()
    baseline = _status("VmRSS")
    started, cpu = time.perf_counter(), time.process_time()
    with Path(os.devnull).open("w") as sink, contextlib.redirect_stdout(sink):
        try:
            code = cli.main(["plan", directory], standalone_mode=False)
        except SystemExit as exit_:
            code = exit_.code
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = _status("VmHWM")
    print(
        json.dumps(
            {
                "exit": code or 0,
                "customers": customers,
                "baseline_bytes": baseline,
                "peak_bytes": peak,
                "per_customer": (peak - baseline) / customers,
                "wall_seconds": wall,
                "cpu_seconds": cpu,
                "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
