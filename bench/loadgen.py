"""A load generator for the served emulator: many keep-alive connections, pre-signed requests.

``python -m bench.loadgen --url http://127.0.0.1:8765 --seed-file partner.json`` sends signed
reads shaped like a plan's (resource listings of random customers, a customer page now and then)
over ``--connections`` keep-alive connections for ``--seconds`` and prints the requests answered
per second and the latency percentiles. Requests are signed once, up front (a signature stays
valid for 15 minutes), and written as raw bytes, so the generator spends a few microseconds per
request and the figure is the server's. Start the server with ``--rate-limit 0``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.bss.credentials import Credentials, Secret
from reconciler.bss.signing import sign_for
from reconciler.emulator.credentials import DEFAULT_CREDENTIALS

RESOURCES = "/v2/orders/suscriptions/resources/query"
CUSTOMERS = "/v2/partners/sub-customers/query"


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def signed_requests(
    url: str, customer_ids: Sequence[str], count: int, *, rng_seed: int = 0
) -> list[bytes]:
    """``count`` raw HTTP/1.1 requests: 95% resource listings of random customers, 5% a page of
    the customer list, signed with the emulator's default partner key."""
    rng = random.Random(rng_seed)
    creds = DEFAULT_CREDENTIALS
    credentials = Credentials(ak=creds.ak, sk=Secret(creds.sk), domain_id=creds.domain_id)
    host = urlsplit(url).netloc
    out = []
    for _ in range(count):
        if rng.random() < 0.95 or len(customer_ids) <= 100:
            path = RESOURCES
            body = {"customer_id": rng.choice(customer_ids), "offset": 0, "limit": 100}
            body["only_main_resource"] = 1
        else:
            path = CUSTOMERS
            body = {"offset": rng.randrange(len(customer_ids) // 100) * 100, "limit": 100}
        payload = json.dumps(body, separators=(", ", ": ")).encode()
        target, signed = sign_for(
            "POST", url, path, query=(), body=payload, credentials=credentials,
            now=time.time(), user_agent="bench-loadgen",
        )  # fmt: skip
        head = [f"POST {urlsplit(target).path} HTTP/1.1", f"Host: {host}"]
        head += [f"{k}: {v}" for k, v in signed.headers.items() if k.lower() != "host"]
        head.append(f"Content-Length: {len(payload)}")
        out.append(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
    return out


async def _connection(
    host: str, port: int, requests: list[bytes], offset: int, stop: float, result: LoadResult
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    n = offset
    try:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            writer.write(requests[n % len(requests)])
            n += 1
            status_line = await reader.readline()
            if not status_line:
                result.errors += 1
                return
            status = int(status_line.split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            result.latencies.append(time.perf_counter() - started)
            result.requests += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status != 200:
                result.errors += 1
    finally:
        writer.close()


async def run_load(
    url: str, requests: list[bytes], *, connections: int = 32, seconds: float = 10.0
) -> LoadResult:
    """Drive ``requests`` (cycled) over ``connections`` connections for ``seconds``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    result = LoadResult()
    started = time.perf_counter()
    stop = started + seconds
    step = max(1, len(requests) // max(1, connections))
    await asyncio.gather(
        *(_connection(host, port, requests, i * step, stop, result) for i in range(connections))
    )
    result.seconds = time.perf_counter() - started
    return result


def customer_ids_of(seed_file: Path) -> list[str]:
    doc = json.loads(seed_file.read_text(encoding="utf-8"))
    return [c["customer_id"] for c in doc.get("customers", [])]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--seed-file", type=Path, required=True, help="the seed the server runs")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    requests = signed_requests(args.url, customer_ids_of(args.seed_file), 4000)
    result = asyncio.run(
        run_load(args.url, requests, connections=args.connections, seconds=args.seconds)
    )
    print(
        f"{result.requests:,} requests in {result.seconds:.1f} s = {result.per_second:,.0f}/s "
        f"over {args.connections} connections; latency median "
        f"{statistics.median(result.latencies) * 1e3:.1f} ms, p99 "
        f"{result.percentile(99) * 1e3:.1f} ms; statuses {result.statuses}"
    )
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
