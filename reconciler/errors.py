"""Every exception the reconciler raises on purpose, and the exit code each one maps to.

::

    ReconcilerError                      exit 1 unless noted
    ├── ConfigError                      settings, credentials, endpoint, command-line misuse
    ├── ManifestError                    one or more manifest problems, each with file:line:col
    ├── ApiError                         the partner API answered with an error
    │   ├── AuthError                    401 / 403 (bad signature, clock skew, wrong identity)
    │   │   └── AgencyDeniedError        IAM refused a customer's temporary credentials
    │   ├── ThrottledError               429 APIG.0308 / CBC.0250 after retries ran out
    │   ├── ServerError                  5xx after retries ran out (reads only)
    │   └── IncompleteAnswerError        a 2xx answer lacks a field a decision rests on, or
    │                                    carries it with the wrong type (never defaulted)
    ├── IncompleteListingError           a listing's pages hold fewer items than its own total
    │                                    (a clamped page size, or the set changed meanwhile)
    ├── TransportError                   no usable answer (connection refused, timeout on a read)
    │   └── OutcomeUnknownError          a non-idempotent write may or may not have taken effect
    ├── PlanBlockedError                 exit 3: a guard stopped the plan
    ├── StalePlanError                   exit 4: a saved plan no longer matches live state
    ├── LockHeldError                    another apply holds the partner account's lease
    ├── UnsettledOperationError          an earlier unknown outcome could not be settled
    ├── PartialApplyError                exit 5: some changes failed, are unknown or frozen
    └── UnreachableStateError            exit 6: nothing to apply, but declared states cannot be
                                         reached (apply; plan exits 6 without raising)

    (reconciler.apply.executor.ApplyInterrupted: exit 130, Ctrl-C during apply)

Messages are written for the person who has to act on them: they name the object, the call or the
file position, and what to do next. Secrets never appear in them; the client builds messages
from the method, path, status, error code and request id only, and what the server said is shown
on one line with its control and invisible characters spelled out
(:func:`reconciler.render.escape.terminal_field`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.render.escape import terminal_field

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_BLOCKED = 3
EXIT_STALE = 4
EXIT_PARTIAL = 5
#: plan: nothing to apply, but declared states cannot be reached (never "no changes")
EXIT_UNREACHABLE = 6


def did_you_mean(word: str, options: Iterable[str], *, cutoff: float = 0.6) -> str:
    """`` (did you mean 'X'?)`` naming the closest of ``options``, or ``""`` if none is close.

    Every "no such thing" message offers one: a manifest typo should cost a glance, not a
    search through Partner Center.
    """
    lowered = {c.lower(): c for c in sorted(set(options)) if c != word}
    match = lowered.get(word.lower())
    if match is None:
        close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
        match = lowered[close[0]] if close else None
    return f" (did you mean {match!r}?)" if match else ""  # repr: live names are untrusted


EXIT_INTERRUPTED = 130


class ReconcilerError(Exception):
    """Base class. ``exit_code`` is what the CLI exits with."""

    exit_code: int = EXIT_ERROR


class ConfigError(ReconcilerError):
    """Bad settings, credentials, endpoint or command-line usage."""


_FILES: list[str] = []  # file names of every position made so far, by number
_FILE_NUMBERS: dict[str, int] = {}
_FIELD = 1 << 32


class SourcePosition(int):
    """A place in a manifest: ``file``, 1-based ``line`` and ``col``.

    Manifests of 100,000 customers hold half a million of these, so a position is one integer
    (``file number << 64 | line << 32 | col``, 36 bytes) instead of an object with three fields
    (about 90), and an entry packs all of its positions in one
    (:mod:`reconciler.manifests.positions`): equal positions are equal, hash alike, and sort by
    file name, line and column.
    It is not a number: use :attr:`file`, :attr:`line` and :attr:`col` (``to_dict`` for JSON).
    """

    __slots__ = ()

    def __new__(cls, file: str, line: int, col: int) -> SourcePosition:
        if not (0 <= line < _FIELD and 0 <= col < _FIELD):
            raise ValueError(f"position out of range: line {line}, column {col}")
        number = _FILE_NUMBERS.get(file)
        if number is None:
            number = _FILE_NUMBERS[file] = len(_FILES)
            _FILES.append(file)
        return super().__new__(cls, (number * _FIELD + line) * _FIELD + col)

    @property
    def file(self) -> str:
        return _FILES[int(self) >> 64]

    @property
    def line(self) -> int:
        return (int(self) >> 32) & (_FIELD - 1)

    @property
    def col(self) -> int:
        return int(self) & (_FIELD - 1)

    def _order(self) -> tuple[str, int, int]:
        return (self.file, self.line, self.col)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SourcePosition):
            return NotImplemented
        return self._order() < other._order()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, SourcePosition):
            return NotImplemented
        return self._order() <= other._order()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, SourcePosition):
            return NotImplemented
        return self._order() > other._order()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, SourcePosition):
            return NotImplemented
        return self._order() >= other._order()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourcePosition) and int(self) == int(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = int.__hash__

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def __repr__(self) -> str:
        return f"SourcePosition(file={self.file!r}, line={self.line}, col={self.col})"

    def __reduce__(self) -> tuple[type[SourcePosition], tuple[str, int, int]]:
        return (SourcePosition, (self.file, self.line, self.col))

    def __copy__(self) -> SourcePosition:
        return self

    def __deepcopy__(self, memo: object) -> SourcePosition:
        return self

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "col": self.col}


@dataclass(frozen=True, order=True)
class ManifestProblem:
    """One problem in a manifest, sortable by file and line."""

    position: SourcePosition
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.position}: {where}{self.message}"


class ManifestError(ReconcilerError):
    """All manifest problems found in one run, sorted by file, line and column."""

    def __init__(self, problems: Sequence[ManifestProblem]) -> None:
        self.problems = sorted(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [terminal_field(p) for p in self.problems]  # one line each, whatever they quote
        super().__init__("\n".join([*lines, f"{count} manifest {noun} found."]))


class ApiError(ReconcilerError):
    """The API answered with an error status, or with ``error_code`` inside a 2xx body."""

    def __init__(
        self,
        *,
        method: str,
        path: str,
        status: int,
        error_code: str,
        error_msg: str,
        request_id: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.error_code = error_code
        self.error_msg = error_msg
        self.request_id = request_id
        t = terminal_field
        rid = f" (request id {t(request_id)})" if request_id else ""
        super().__init__(f"{method} {t(path)} -> {status} {t(error_code)}: {t(error_msg)}{rid}")


class AuthError(ApiError):
    """401 or 403: the signature, the clock, or the identity was not accepted."""


class AgencyDeniedError(AuthError):
    """IAM refused temporary credentials for a customer through the partner's agency (403).

    Either the customer has not granted the agency (or the name is wrong), or the partner
    credentials in use may not assume agencies (e.g. a read-only operator). IAM's own words are
    in ``iam_message``; the two cases cannot be told apart from the answer alone.
    """

    def __init__(self, *, customer_id: str, agency: str, iam_message: str, **kw: Any) -> None:
        self.customer_id = customer_id
        self.agency = agency
        self.iam_message = iam_message
        super().__init__(
            error_msg=(
                f"IAM refused temporary credentials for customer {customer_id} through the "
                f"agency {agency!r}: the customer has not granted it to this partner (or the name "
                "is wrong), or these credentials may not assume agencies. "
                f"IAM said: {iam_message}"
            ),
            **kw,
        )


class IncompleteAnswerError(ApiError):
    """A 2xx answer without a usable field that a plan or apply decision rests on.

    The SDK marks most response fields optional; the reconciler never fills one in with a
    default, so it stops and names the operation, the object and the field.
    """

    def __init__(
        self, *, method: str, path: str, operation: str, what: str, field: str, problem: str,
        request_id: str | None = None,
    ) -> None:  # fmt: skip
        self.operation = operation
        self.what = what
        self.field = field
        super().__init__(
            method=method,
            path=path,
            status=200,
            error_code="incomplete answer",
            error_msg=f"{operation}: {what}: {field} {problem}",
            request_id=request_id,
        )
        rid = f" (request id {request_id})" if request_id else ""
        self.args = (
            f"{method} {path} ({operation}) answered without a usable field: {what}: {field} "
            f"{problem}{rid}. The reconciler's decisions rest on it, so it stops instead of "
            "guessing.",
        )


class IncompleteListingError(ReconcilerError):
    """A listing's pages hold fewer items than its own total announces.

    The API clamped the page size, or the set changed under the offsets while it was read.
    Decisions rest on whole listings (every quota of a reseller, every record since a call), so
    the reconciler stops instead of deciding on part of one.
    """

    def __init__(self, *, label: str, got: int, total: int, cause: str) -> None:
        self.label = label
        self.got = got
        self.total = total
        super().__init__(
            f"{label} returned {got} of the {total} items its own total announces: {cause}. "
            "The reconciler's decisions rest on the whole listing, so it stops instead of "
            "deciding on part of it."
        )


class ThrottledError(ApiError):
    """429 (``APIG.0308`` or ``CBC.0250``) and the retry budget is spent."""


class ServerError(ApiError):
    """A 5xx answer on a call that was safe to retry, after the retries ran out."""


class TransportError(ReconcilerError):
    """No usable HTTP answer: connection refused, reset, or a read that timed out."""

    def __init__(self, method: str, path: str, cause: str) -> None:
        self.method = method
        self.path = path
        self.cause = cause
        super().__init__(f"{method} {terminal_field(path)} -> no response: {terminal_field(cause)}")


class OutcomeUnknownError(TransportError):
    """A call that moves money may have reached the server, and its answer was lost.

    It is never retried blindly. The apply engine records it as *unknown* and settles it from the
    API's own records before anything else is written.
    """

    def __init__(self, method: str, path: str, cause: str) -> None:
        super().__init__(method, path, cause)
        self.args = (
            f"{method} {terminal_field(path)} -> outcome unknown: {terminal_field(cause)}; "
            "the call may have taken effect. "
            "It will not be retried until the API's own records settle it.",
        )


class PlanBlockedError(ReconcilerError):
    """A guard stopped the plan. The message names the guard, the value, the limit and the flag."""

    exit_code = EXIT_BLOCKED


class StalePlanError(ReconcilerError):
    """A saved plan no longer matches the manifests or the live objects it was computed from."""

    exit_code = EXIT_STALE


class LockHeldError(ReconcilerError):
    """Another apply holds the lease on this partner account."""


class UnsettledOperationError(ReconcilerError):
    """An earlier write has an unknown outcome that the API's records could not settle."""


class PartialApplyError(ReconcilerError):
    """Apply finished, but some changes failed or have an unknown outcome."""

    exit_code = EXIT_PARTIAL


class UnreachableStateError(ReconcilerError):
    """Apply had nothing to do, but declared states cannot be reached: never "done"."""

    exit_code = EXIT_UNREACHABLE
