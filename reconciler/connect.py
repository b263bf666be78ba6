"""Where the reconciler talks to: the real partner API, a served emulator, or the embedded one.

* ``--endpoint URL`` or ``RECONCILER_ENDPOINT``: that endpoint, with credentials from the
  environment (``HUAWEICLOUD_SDK_AK`` / ``HUAWEICLOUD_SDK_SK`` / ``HUAWEICLOUD_SDK_DOMAIN_ID``) or
  a profile file (``RECONCILER_PROFILE``). ``RECONCILER_IAM_ENDPOINT`` overrides the IAM endpoint.
* A plain ``http://`` endpoint (BSS or IAM) is refused unless its host is this machine or the
  command has ``--allow-insecure-endpoint`` (``RECONCILER_ALLOW_INSECURE_ENDPOINT=1``); see
  :mod:`reconciler.bss.endpoints`. The CLI sets the flag for the duration of one command with
  :func:`insecure_endpoints_allowed`.
* ``RECONCILER_RATE``: requests per second per API (default 10, the partner API's documented
  limit). Raise it only when Huawei has raised your quota; the embedded emulator enforces the
  same rate.
* Neither: the embedded emulator, in process, with its state in
  ``$RECONCILER_STATE_DIR/emulator-state.json`` (default ``.reconciler/``). When that file does
  not exist yet the emulator starts from the demo seed, so a first command works offline.

The agency name (Settings ``spec.agencyName``, else ``RECONCILER_AGENCY_NAME``) is never filled
in: the embedded emulator, a served one and the real API all need it configured, so the three
give the same answer.
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from reconciler.bss.client import BssClient
from reconciler.bss.core import default_iam_endpoint
from reconciler.bss.credentials import Credentials, Secret, load_credentials
from reconciler.bss.endpoints import ENV_ALLOW_INSECURE, check_cleartext, insecure_allowed_by_env
from reconciler.emulator.clock import Clock, SystemClock
from reconciler.errors import ConfigError

DEFAULT_STATE_DIR = ".reconciler"
DEFAULT_RATE = 10.0
_INSECURE_FLAG: ContextVar[bool] = ContextVar("allow_insecure_endpoint", default=False)


@contextmanager
def insecure_endpoints_allowed(allowed: bool) -> Iterator[None]:
    """While inside, :func:`resolve_target` accepts ``http://`` to any host if ``allowed``
    (the command line's ``--allow-insecure-endpoint``)."""
    token = _INSECURE_FLAG.set(allowed)
    try:
        yield
    finally:
        _INSECURE_FLAG.reset(token)


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("RECONCILER_STATE_DIR") or DEFAULT_STATE_DIR)


@dataclass(frozen=True)
class Target:
    """What a command connects to, decided before anything is read."""

    endpoint: str | None  # None = the embedded emulator
    iam_endpoint: str | None
    profile: str | None
    state_dir: Path
    rate: float = DEFAULT_RATE
    allow_insecure: bool = False  # http:// to hosts other than this machine

    @property
    def embedded(self) -> bool:
        return self.endpoint is None

    @property
    def label(self) -> str:
        if self.endpoint is None:
            return f"the embedded emulator ({self.state_dir / 'emulator-state.json'})"
        return self.endpoint


def resolve_target(
    endpoint: str | None, profile: str | None = None, env: Mapping[str, str] | None = None
) -> Target:
    env = os.environ if env is None else env
    url = endpoint or env.get("RECONCILER_ENDPOINT") or None
    if url is not None and not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"endpoint {url!r} is not an http(s) URL (e.g. https://bss.myhuaweicloud.com)"
        )
    iam = env.get("RECONCILER_IAM_ENDPOINT") or None
    insecure = _INSECURE_FLAG.get() or insecure_allowed_by_env(env.get(ENV_ALLOW_INSECURE))
    if url is not None:
        check_cleartext(url, "endpoint", allowed=insecure)
        check_cleartext(iam or default_iam_endpoint(url), "IAM endpoint", allowed=insecure)
    return Target(
        endpoint=url.rstrip("/") if url else None,
        iam_endpoint=iam,
        profile=profile or env.get("RECONCILER_PROFILE") or None,
        state_dir=state_dir(env),
        rate=_rate(env.get("RECONCILER_RATE")),
        allow_insecure=insecure,
    )


def _rate(text: str | None) -> float:
    if not text:
        return DEFAULT_RATE
    try:
        rate = float(text)
    except ValueError:
        rate = 0.0
    if not 0 < rate < math.inf:  # nan and inf too: inf would switch pacing off
        raise ConfigError(
            f"RECONCILER_RATE={text!r} is not a positive, finite number of requests per second"
        )
    return rate


@dataclass(frozen=True)
class Connection:
    client: BssClient
    target: Target
    partner_id: str
    agency_name: str | None


@asynccontextmanager
async def connect(
    target: Target,
    *,
    agency_name: str | None = None,
    clock: Clock | None = None,
    rng_seed: int | None = None,
) -> AsyncIterator[Connection]:
    """A ready client for ``target``; closes it afterwards."""
    clock = clock or SystemClock()
    agency = agency_name or os.environ.get("RECONCILER_AGENCY_NAME") or None
    if target.embedded:
        from reconciler.emulator import Emulator
        from reconciler.emulator.credentials import DEFAULT_CREDENTIALS as EMU

        target.state_dir.mkdir(parents=True, exist_ok=True)
        emulator = Emulator(
            clock=clock,
            state_file=target.state_dir / "emulator-state.json",
            seed=default_seed(),
            rate_limit=target.rate,
        )
        creds = Credentials(ak=EMU.ak, sk=Secret(EMU.sk), domain_id=EMU.domain_id)
        client = BssClient(
            "https://bss.myhuaweicloud.com",
            creds,
            iam_endpoint="https://iam.myhuaweicloud.com",
            transport=emulator.async_transport(),
            clock=clock,
            agency_name=agency,
            rng_seed=rng_seed,
            rate=target.rate,
        )
        partner = EMU.domain_id
    else:
        assert target.endpoint is not None
        creds = load_credentials(profile=target.profile)
        client = BssClient(
            target.endpoint,
            creds,
            iam_endpoint=target.iam_endpoint,
            clock=clock,
            agency_name=agency,
            rng_seed=rng_seed,
            rate=target.rate,
            allow_insecure_endpoint=target.allow_insecure,
        )
        partner = creds.domain_id or "(domain id not set)"
    async with client:
        yield Connection(client=client, target=target, partner_id=partner, agency_name=agency)


def default_seed() -> Path:
    """The demo seed shipped with the emulator (identical to examples/emulator-seed.yaml)."""
    return Path(__file__).parent / "emulator" / "seeds" / "demo.yaml"
