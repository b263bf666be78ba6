"""The client's machinery: construction, lifecycle, plumbing shared by every API method.

:class:`~reconciler.bss.client.BssClient` adds the typed API methods on top of
:class:`ClientCore`.
"""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator, Callable, Mapping
from importlib import metadata
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import httpx

from reconciler.emulator.clock import Clock, SystemClock
from reconciler.errors import AuthError, ConfigError, IncompleteAnswerError

from . import operations as ops
from . import queries as q
from .credentials import Credentials
from .endpoints import check_cleartext
from .fields import FieldError, opt_int
from .http11 import Http11Transport
from .iam import DEFAULT_DURATION, CustomerCredentials
from .models import Page
from .paging import iter_pages
from .ratelimit import DEFAULT_RATE, ApiStats, RateLimiter, Waiting
from .redact import get_logger
from .retry import Backoff
from .signing import query_pairs
from .transport import Executor

if TYPE_CHECKING:
    from typing_extensions import Self

log = get_logger(__name__)
T = TypeVar("T")

REAL_IAM = {
    "bss.myhuaweicloud.com": "https://iam.myhuaweicloud.com",
    "bss-intl.myhuaweicloud.com": "https://iam.myhuaweicloud.com",
    "bss.myhuaweicloud.eu": "https://iam.myhuaweicloud.eu",  # unverified (REFERENCE §1)
}


def _version() -> str:
    try:
        return metadata.version("partner-reconciler")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


USER_AGENT = f"partner-reconciler/{_version()}"


#: Seconds a read keeps retrying transient failures (timeouts, lost connections, 5xx, 429) past
#: ``max_attempts``: a plan that reads for hours outlives a slow answer or minutes of trouble.
READ_PATIENCE = 600.0
#: Connections open at once, at most. The worker pools keep about rate x latency calls of each
#: API in flight (``reconciler/plan/pools.py``); every one of them keeps its connection alive.
MAX_CONNECTIONS = 512
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


def default_transport(env: Mapping[str, str] | None = None) -> httpx.AsyncBaseTransport | None:
    """The client's own HTTP/1.1 transport (:mod:`reconciler.bss.http11`: about half the CPU
    per request of httpx's default one), or ``None`` (httpx's default, which honours the proxy
    variables) when a proxy is configured in the environment."""
    env = os.environ if env is None else env
    if any(env.get(name) or env.get(name.upper()) for name in _PROXY_VARIABLES):
        return None
    return Http11Transport(max_connections=MAX_CONNECTIONS)


def default_iam_endpoint(endpoint: str) -> str:
    """IAM of the real cloud for a real BSS host; otherwise the same URL (a served emulator)."""
    host = (urlsplit(endpoint).hostname or "").lower()
    return REAL_IAM.get(host, endpoint)


class ClientCore:
    """Endpoint, credentials, pacing, retries and IAM; no API methods of its own."""

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        *,
        iam_endpoint: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        rate: float = DEFAULT_RATE,
        rates: Mapping[str, float] | None = None,
        timeout: float = 30.0,
        max_attempts: int = 4,
        read_patience: float = READ_PATIENCE,
        agency_name: str | None = None,
        rng_seed: int | None = None,
        iam_duration_seconds: int = DEFAULT_DURATION,
        allow_insecure_endpoint: bool = False,
    ) -> None:
        """``allow_insecure_endpoint``: permit ``http://`` to hosts other than this machine
        (:mod:`reconciler.bss.endpoints`)."""
        for url in (endpoint, iam_endpoint or endpoint):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(f"endpoint must be an http(s) URL with a host, got {url!r}")
        for url, what in ((endpoint, "endpoint"), (iam_endpoint or "", "IAM endpoint")):
            check_cleartext(url, what, allowed=allow_insecure_endpoint)
        unknown = sorted(set(rates or {}) - {op.name for op in ops.ALL})
        if unknown:
            known = ", ".join(sorted(op.name for op in ops.ALL))
            raise ConfigError(f"rates: unknown API {', '.join(unknown)} (known: {known})")
        self.endpoint = endpoint.rstrip("/")
        self.iam_endpoint = (iam_endpoint or default_iam_endpoint(endpoint)).rstrip("/")
        self._credentials = credentials
        self._agency_name = agency_name
        self._clock: Clock = clock or SystemClock()
        transport = transport or default_transport()
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
            ),
        )
        self._limiter = RateLimiter(self._clock, rate, rates)
        self._executor = Executor(
            http=self._http,
            clock=self._clock,
            limiter=self._limiter,
            backoff=Backoff(random.Random(rng_seed)),
            max_attempts=max_attempts,
            user_agent=USER_AGENT,
            read_patience=read_patience,
            paces_writes=bool(getattr(transport, "paces_writes", False)),
        )
        self._customers = CustomerCredentials(
            executor=self._executor,
            iam_endpoint=self.iam_endpoint,
            partner=credentials,
            clock=self._clock,
            agency_name=agency_name,
            duration_seconds=iam_duration_seconds,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.endpoint!r}, {self._credentials!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def stats(self) -> dict[str, ApiStats]:
        """Per-API counters: calls sent, 429s received, retries, seconds waited and backed off."""
        return self._limiter.stats()

    def rate_for(self, api: str) -> float:
        """The pacing rate (requests per second) of one API, by operation name."""
        return self._limiter.rate(api)

    def waiting(self) -> list[Waiting]:
        """APIs with an answer outstanding for 10 s or more, or retrying failures (for progress)."""
        return self._limiter.waiting()

    def clock_offset(self) -> tuple[float, float] | None:
        """Bounds on the API's clock minus ours, in seconds, from its answers' ``Date`` header
        (``None`` until an answer carried one); see :mod:`reconciler.bss.clockoffset`."""
        return self._executor.clock_offset.bounds()

    def api_time(self) -> float:
        """The API's clock now (epoch seconds), as far as its answers' ``Date`` headers tell;
        our own clock until one has."""
        offset = self.clock_offset()
        now = self._clock.time()
        return now if offset is None else now + (offset[0] + offset[1]) / 2

    def recent_latency(self, api: str) -> float | None:
        """The slowest of the API's recent answers in seconds (pacing excluded), if any yet."""
        return self._limiter.recent_latency(api)

    @property
    def agency_name(self) -> str | None:
        """The agency customers grant to this partner (``None``: customer calls impossible)."""
        return self._agency_name

    @property
    def iam_calls(self) -> int:
        """How many temporary-credential requests went to IAM."""
        return self._customers.iam_calls

    async def customer_credentials(self, customer_id: str, *, keep: bool = True) -> Credentials:
        """The customer's temporary credentials (cached; one IAM call per customer at a time;
        ``keep=False``: a check only, nothing of it cached).

        Raises :class:`~reconciler.errors.AuthError` when the customer has not granted the agency,
        and :class:`~reconciler.errors.ConfigError` when no agency name is configured.
        """
        return await self._customers.get(_required(customer_id, "customer_id"), keep=keep)

    # -- plumbing ---------------------------------------------------------------------------

    async def _call(
        self, op: ops.Operation, *, path: str | None = None, query: Any = (), body: object = None
    ) -> Any:
        return await self._executor.call(
            op,
            endpoint=self.endpoint,
            credentials=self._credentials,
            path=path or op.path,
            query=query,
            body=body,
        )

    async def _as_customer(
        self, op: ops.Operation, customer_id: str, *, path: str, body: object = None
    ) -> Any:
        """Call ``op`` with the customer's temporary credentials; renew them once on a 401."""
        for renewed in (False, True):
            creds = await self._customers.get(customer_id)
            try:
                return await self._executor.call(
                    op, endpoint=self.endpoint, credentials=creds, path=path, body=body
                )
            except AuthError as exc:
                if exc.status != 401 or renewed:
                    raise
                log.info(
                    "%s %s -> 401; renewing customer %s credentials", op.method, path, customer_id
                )
                self._customers.invalidate(customer_id)
                self._limiter.stats_for(op.name).retries += 1
        raise AssertionError("unreachable")  # pragma: no cover

    async def _page(
        self,
        spec: q.ListSpec,
        parse: Callable[[Mapping[str, Any]], T],
        offset: int,
        limit: int,
        filters: Mapping[str, object],
    ) -> Page[T]:
        params = q.list_params(spec, offset, limit, filters)
        if spec.in_body:
            data = await self._call(spec.op, body=params)
        else:
            data = await self._call(spec.op, query=query_pairs(params))
        return read_page(spec, data, parse)

    def _iter(
        self,
        spec: q.ListSpec,
        parse: Callable[[Mapping[str, Any]], T],
        key: Callable[[T], str | None],
        filters: Mapping[str, object],
        page_size: int,
        prefetch: int,
    ) -> AsyncIterator[T]:
        q.list_params(spec, 0, page_size, filters)  # validate now, not at first iteration

        async def fetch(offset: int, limit: int) -> Page[T]:
            return await self._page(spec, parse, offset, limit, filters)

        label = f"{spec.op.method} {spec.op.path} ({spec.op.name})"
        return iter_pages(fetch, key=key, limit=page_size, prefetch=prefetch, label=label)


def read_page(spec: q.ListSpec, data: object, parse: Callable[[Mapping[str, Any]], T]) -> Page[T]:
    """One page of a list answer, strictly: the items a list, each an object with the fields
    decisions rest on; the total an integer. Otherwise :class:`IncompleteAnswerError`."""
    op = spec.op

    def incomplete(what: str, field: str, problem: str) -> IncompleteAnswerError:
        return IncompleteAnswerError(
            method=op.method, path=op.path, operation=op.name, what=what, field=field,
            problem=problem,
        )  # fmt: skip

    if not isinstance(data, Mapping):
        raise incomplete("the answer", "body", "is not a JSON object")
    try:
        total = opt_int(data, spec.total_key)
    except FieldError as err:
        raise incomplete("the answer", err.field, err.problem) from None
    raw = data.get(spec.items_key)
    if raw is None:
        if total:
            raise incomplete("the answer", spec.items_key, f"is missing (total {total})")
        raw = []
    if not isinstance(raw, list):
        raise incomplete("the answer", spec.items_key, "is not a list")
    items = []
    for n, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise incomplete(f"{spec.items_key}[{n}]", "item", "is not an object")
        try:
            items.append(parse(item))
        except FieldError as err:
            raise incomplete(_describe(spec, item, n), err.field, err.problem) from None
    return Page(tuple(items), total if total is not None else -1)


_ID_KEYS = ("resource_id", "quota_id", "customer_id", "indirect_partner_id", "id")


def _describe(spec: q.ListSpec, item: Mapping[str, Any], n: int) -> str:
    """The object an incomplete item is, by the first id it carries (else its position)."""
    for key in _ID_KEYS:
        value = item.get(key)
        if isinstance(value, str) and value:
            return f"{spec.items_key}[{n}] ({key} {value})"
    return f"{spec.items_key}[{n}]"


def _required(value: str, name: str) -> str:
    if not value:
        raise ValueError(f"{name} is required")
    return value


def _by(field: str) -> Callable[[Any], str | None]:
    def key(item: Any) -> str | None:
        value = getattr(item, field)
        return str(value) if value else None

    return key
