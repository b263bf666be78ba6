"""partner-reconciler: GitOps for a Huawei Cloud reseller's partner account."""

from __future__ import annotations

try:  # written by setuptools-scm from the git tag when the package is built or installed
    from reconciler._version import __version__
except ImportError:  # a source tree that was never built: say so rather than guess
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
