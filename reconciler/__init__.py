"""partner-reconciler: GitOps for a Huawei Cloud reseller's partner account."""

from __future__ import annotations

__version__ = "0.1.0"
