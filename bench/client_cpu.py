"""Client CPU per request, three clients in one process against one served emulator.

``python -m bench.client_cpu --url URL --seed-file partner.json`` sends the same resource
listings (``list_pay_per_use_customer_resources`` of random customers, 100 per page, main
resources only) with:

* **ours**: :class:`~reconciler.bss.client.BssClient` (its own HTTP/1.1 transport, pacing, retries,
  parsing into models), ``--concurrency`` calls in flight on one event loop;
* **official SDK**: ``huaweicloudsdkbss`` (a development dependency), one client shared by
  ``--concurrency`` threads;
* **bare httpx**: ``httpx.Client`` on ``--concurrency`` threads, each request signed with our
  signer and its JSON decoded, nothing else: about the least a Python client can do.

Each is warmed up first, then measured: the process's CPU time (every thread) over the
requests, divided by their number. The server runs in another process (``--rate-limit 0``, no
latency), so the figure is the client's alone. It prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from reconciler.bss.client import BssClient
from reconciler.bss.credentials import Credentials, Secret
from reconciler.bss.signing import sign_for
from reconciler.emulator.credentials import DEFAULT_CREDENTIALS

from .loadgen import customer_ids_of

RESOURCES = "/v2/orders/suscriptions/resources/query"
WARM_UP = 100


def _credentials() -> Credentials:
    creds = DEFAULT_CREDENTIALS
    return Credentials(ak=creds.ak, sk=Secret(creds.sk), domain_id=creds.domain_id)


def measure(run: Callable[[list[str]], None], ids: list[str]) -> dict[str, float]:
    """CPU and wall seconds per request of ``run`` over ``ids`` (after a warm-up)."""
    run(ids[:WARM_UP])
    cpu, wall = time.process_time(), time.perf_counter()
    run(ids)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "cpu_ms_per_request": cpu / len(ids) * 1e3,
        "requests_per_second": len(ids) / wall,
        "requests": len(ids),
    }


def ours(url: str, concurrency: int) -> Callable[[list[str]], None]:
    def run(ids: list[str]) -> None:
        async def main() -> None:
            gate = asyncio.Semaphore(concurrency)
            async with BssClient(url, _credentials(), rate=1e6) as client:

                async def one(cid: str) -> None:
                    async with gate:
                        page = await client.list_customer_resources(
                            cid, limit=100, only_main_resource=1
                        )
                        assert page.total >= 0

                await asyncio.gather(*(one(cid) for cid in ids))

        asyncio.run(main())

    return run


def official_sdk(url: str, concurrency: int) -> Callable[[list[str]], None]:
    from huaweicloudsdkbss.v2 import (
        BssClient as SdkClient,
    )
    from huaweicloudsdkbss.v2 import (
        ListPayPerUseCustomerResourcesRequest,
        QueryResourcesReq,
    )
    from huaweicloudsdkcore.auth.credentials import GlobalCredentials

    creds = DEFAULT_CREDENTIALS
    client = (
        SdkClient.new_builder()
        .with_credentials(GlobalCredentials(creds.ak, creds.sk, creds.domain_id))
        .with_endpoints([url])
        .build()
    )

    def one(cid: str) -> None:
        body = QueryResourcesReq(customer_id=cid, only_main_resource=1, offset=0, limit=100)
        answer = client.list_pay_per_use_customer_resources(
            ListPayPerUseCustomerResourcesRequest(body=body)
        )
        assert answer.total_count is not None

    def run(ids: list[str]) -> None:
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, ids))

    return run


def bare_httpx(url: str, concurrency: int) -> Callable[[list[str]], None]:
    credentials = _credentials()
    client = httpx.Client(limits=httpx.Limits(max_connections=concurrency))

    def one(cid: str) -> None:
        body = {"customer_id": cid, "offset": 0, "limit": 100, "only_main_resource": 1}
        payload = json.dumps(body, separators=(",", ":")).encode()
        target, signed = sign_for(
            "POST", url, RESOURCES, query=(), body=payload, credentials=credentials,
            now=time.time(), user_agent="bench-httpx",
        )  # fmt: skip
        answer = client.post(target, headers=signed.headers, content=payload)
        assert answer.status_code == 200 and "total_count" in answer.json()

    def run(ids: list[str]) -> None:
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, ids))

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.client_cpu", description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--seed-file", required=True, help="the seed the server runs")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    known = customer_ids_of(Path(args.seed_file))
    rng = random.Random(0)
    ids = [rng.choice(known) for _ in range(args.requests)]
    result: dict[str, Any] = {"concurrency": args.concurrency}
    clients = {"ours": ours, "official_sdk": official_sdk, "bare_httpx": bare_httpx}
    for name, make in clients.items():
        result[name] = measure(make(args.url, args.concurrency), ids)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
