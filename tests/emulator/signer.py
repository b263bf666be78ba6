"""A test-only SDK-HMAC-SHA256 signer, written from REFERENCE §2.2 (not from the emulator)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote

ALG = "SDK-HMAC-SHA256"


def enc(text: str) -> str:
    return quote(text, safe="~")


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Sorted, RFC 3986 encoded; also the exact query string the request sends."""
    return "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted((str(k), str(v)) for k, v in pairs))


def authorization(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    ak: str,
    sk: str,
) -> str:
    """The Authorization header for ``headers`` (which must hold host and x-sdk-date).

    ``query`` is the canonical query string (already sorted and encoded).
    """
    curi = "/".join(enc(seg) for seg in unquote(path).split("/"))
    curi = curi if curi.endswith("/") else curi + "/"
    low = {k.lower(): str(v).strip() for k, v in headers.items()}
    names = sorted(k for k in low if "_" not in k)
    creq = "\n".join(
        [
            method.upper(),
            curi,
            query,
            "".join(f"{k}:{low[k]}\n" for k in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    sts = "\n".join([ALG, low["x-sdk-date"], hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac.new(sk.encode(), sts.encode(), hashlib.sha256).hexdigest()
    return f"{ALG} Access={ak}, SignedHeaders={';'.join(names)}, Signature={sig}"
