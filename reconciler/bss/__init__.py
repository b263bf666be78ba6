"""The BSS partner API client: signing, credentials, rate limits, retries, paging, IAM.

Importing this package installs the secret-scrubbing log filter on the ``reconciler`` logger.
"""

from __future__ import annotations

from .cash import AccountBalance, AdjustRecord, CustomerBalance, TransferResult, allocatable
from .client import BssClient
from .core import default_iam_endpoint
from .coupons import (
    CouponIssueResult,
    CouponLimit,
    CouponReclaimResult,
    CouponRecord,
    PartnerCoupon,
)
from .credentials import Credentials, Secret, from_env, from_file, load_credentials
from .models import (
    CouponQuota,
    Customer,
    IndirectPartner,
    IssuedQuota,
    IssueResult,
    ItemError,
    Page,
    QuotaLimit,
    QuotaRecord,
    ReclaimResult,
    RenewalResult,
    Resource,
)
from .operations import CallKind, Operation
from .ratelimit import ApiStats, Pacer, RateLimiter
from .redact import SecretFilter, install_log_filter, install_secret_filter
from .signing import SignedRequest, canonical_query, sign_request

install_secret_filter()

__all__ = [
    "AccountBalance",
    "AdjustRecord",
    "ApiStats",
    "BssClient",
    "CallKind",
    "CouponIssueResult",
    "CouponLimit",
    "CouponQuota",
    "CouponReclaimResult",
    "CouponRecord",
    "Credentials",
    "Customer",
    "CustomerBalance",
    "IndirectPartner",
    "IssueResult",
    "IssuedQuota",
    "ItemError",
    "Operation",
    "Pacer",
    "Page",
    "PartnerCoupon",
    "QuotaLimit",
    "QuotaRecord",
    "RateLimiter",
    "ReclaimResult",
    "RenewalResult",
    "Resource",
    "Secret",
    "SecretFilter",
    "SignedRequest",
    "TransferResult",
    "allocatable",
    "canonical_query",
    "default_iam_endpoint",
    "from_env",
    "from_file",
    "install_log_filter",
    "install_secret_filter",
    "load_credentials",
    "sign_request",
]
