"""Export into a directory that already holds manifests: merge, never clobber.

What export does with each file it would write (``FILES``):

* **absent**: written.
* **a file export wrote that nobody edited since** (its "Exported by" line carries the checksum
  of its content) and ``--force``: replaced, and the result says so.
* **anything else** (hand-written, edited, or export's own without ``--force``): *merged*. The
  live entries no manifest in the directory declares yet are appended as a new document; every
  byte already there stays. A customer (or reseller balance) the directory declares anywhere is
  left as written, even when live state differs: that is what ``plan`` then shows.
* **Settings** are never replaced, ``--force`` or not: the one Settings document of the
  directory (whichever file holds it) gains the managers seen live that its roster lacks (the
  roster never shrinks) and an ``agencyName`` if it has none; every other field, comment and
  line stays as written. When the layout makes a safe edit impossible (a flow-style ``spec``,
  a multi-line flow list), nothing is changed and a warning says what to add by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import ConfigError
from reconciler.gitops.export_yaml import SETTINGS_FILE, Only
from reconciler.gitops.yamlout import modeline, scalar, unedited_export
from reconciler.kinds import registry
from reconciler.manifests.document import Document

if TYPE_CHECKING:
    from reconciler.manifests.desired import DesiredState

APPENDIX = "# Added by `reconciler export`: live entries no manifest in this directory declared."


@dataclass(frozen=True)
class Outcome:
    """What happened to one file."""

    name: str
    action: str  # written | replaced | merged | unchanged
    what: str


@dataclass
class Merge:
    """The new text of each file to write, what happened to each, and warnings."""

    texts: dict[Path, str] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def only_undeclared(desired: DesiredState | None) -> Only:
    """Per kind, a filter that keeps the live objects ``desired`` does not declare (all, when
    ``None``)."""
    if desired is None:
        return {}
    return {k.id: k.export_undeclared(desired) for k in registry.with_exports()}


def merge_kind_file(
    merge: Merge,
    path: Path,
    generated: tuple[str, str],
    appendix: tuple[str, str],
    *,
    force: bool,
    taken: set[str],
    schema_dir: str,
) -> None:
    """One kind's file: write, replace (``force``, unedited export) or append what is new."""
    text, what = generated
    if not path.exists() or _replaced_link(merge, path, what, force=force):
        merge.texts[path] = text
        if not path.is_symlink():
            merge.outcomes.append(Outcome(path.name, "written", what))
        return
    current = path.read_text(encoding="utf-8")
    if force and unedited_export(current):
        merge.texts[path] = text
        merge.outcomes.append(
            Outcome(path.name, "replaced", f"{what} (export wrote it and nobody edited it)")
        )
        return
    extra, extra_what = appendix
    docs = _documents(extra)
    why = "" if not force else " (edited or hand-written: --force replaces only export's own)"
    if not docs:
        merge.outcomes.append(
            Outcome(path.name, "unchanged", f"every live entry is declared already{why}")
        )
        return
    merge.texts[path] = (
        current.rstrip("\n") + "\n" + "".join(_appended(d, taken, schema_dir) for d in docs)
    )
    merge.outcomes.append(Outcome(path.name, "merged", f"appended {extra_what}{why}"))


def _documents(text: str) -> list[list[str]]:
    """The documents of an export file that hold entries, without their comment headers."""
    docs = []
    for doc in text.split("\n---\n"):
        lines = [ln for ln in doc.splitlines() if ln and not ln.startswith("#")]
        if any(ln.startswith("    - ") for ln in lines):
            docs.append(lines)
    return docs


def _appended(lines: list[str], taken: set[str], schema_dir: str) -> str:
    """``---``, the modeline, a note, and the document with a ``metadata.name`` not taken."""
    out = list(lines)
    first = next(n for n, line in enumerate(out) if line.startswith("  name: "))
    out[first] = f"  name: {_free(out[first].removeprefix('  name: '), taken)}"
    return "---\n" + "\n".join([modeline(schema_dir), APPENDIX, *out]) + "\n"


def _free(name: str, taken: set[str]) -> str:
    candidate, n = f"{name}-exported", 2
    while candidate in taken:
        candidate, n = f"{name}-exported-{n}", n + 1
    taken.add(candidate)
    return candidate


# -- Settings ---------------------------------------------------------------------------------


def merge_settings(
    merge: Merge,
    directory: Path,
    generated: tuple[str, str],
    existing: Document | None,
    roster: Sequence[str],
    agency: str | None,
    *,
    force: bool = False,
) -> None:
    """Grow the one Settings document in place, or write settings.yaml when there is none."""
    if existing is None:
        _new_settings(merge, directory / SETTINGS_FILE, generated, force=force)
        return
    path = Path(existing.file)
    spec = existing.content.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    have = spec.get("accountManagers")
    have_list = [str(m) for m in have] if isinstance(have, list) else []
    missing = sorted(set(roster) - set(have_list))
    add_agency = agency if agency and not spec.get("agencyName") else None
    if not missing and not add_agency:
        merge.outcomes.append(Outcome(path.name, "unchanged", "Settings already hold it all"))
        return
    text = merge.texts.get(path) or path.read_text(encoding="utf-8")
    edited = edit_settings(existing, text, missing, add_agency)
    if edited is None:
        hand = [f"accountManagers += {', '.join(missing)}"] if missing else []
        hand += [f"agencyName: {add_agency}"] if add_agency else []
        merge.warnings.append(
            f"{existing.start}: could not edit this Settings document safely; add by hand: "
            + "; ".join(hand)
        )
        merge.outcomes.append(Outcome(path.name, "unchanged", "Settings left as written"))
        return
    merge.texts[path] = edited
    said = [f"roster + {', '.join(missing)}"] if missing else []
    said += ["agencyName"] if add_agency else []
    merge.outcomes.append(
        Outcome(path.name, "merged", "Settings " + ", ".join(said) + "; the rest as written")
    )


def _new_settings(merge: Merge, path: Path, generated: tuple[str, str], *, force: bool) -> None:
    """No Settings document yet: write settings.yaml, or append one to it."""
    if not path.exists() or _replaced_link(merge, path, generated[1], force=force):
        merge.texts[path] = generated[0]
        if not path.is_symlink():
            merge.outcomes.append(Outcome(path.name, "written", generated[1]))
        return
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n---\n" + generated[0]
    merge.texts[path] = text
    merge.outcomes.append(Outcome(path.name, "merged", "appended a Settings document"))


def edit_settings(
    doc: Document, text: str, missing: Sequence[str], agency: str | None
) -> str | None:
    """``text`` with ``missing`` managers added to the roster and ``agency`` set, or ``None``
    when the document's layout does not allow a safe line edit."""
    lines = text.split("\n")
    spec_key = doc.keys.get(("spec",))
    children = [pos for path, pos in doc.keys.items() if len(path) == 2 and path[0] == "spec"]
    if spec_key is None or not children or min(ln for ln, _ in children) <= spec_key[0]:
        return None  # an empty or flow-style spec
    indent = " " * (min(col for _, col in children) - 1)
    inserts: list[str] = []
    if agency:
        inserts.append(f"{indent}agencyName: {scalar(agency)}")
    if missing:
        if ("spec", "accountManagers") in doc.keys:
            if not _grow_roster(doc, lines, missing):
                return None
        else:
            inserts.append(f"{indent}accountManagers: [{', '.join(scalar(m) for m in missing)}]")
    lines[spec_key[0] : spec_key[0]] = inserts  # right after the `spec:` line
    return "\n".join(lines)


def _grow_roster(doc: Document, lines: list[str], missing: Sequence[str]) -> bool:
    """Append ``missing`` to a one-line flow list or a block list; ``False`` if neither."""
    path = ("spec", "accountManagers")
    key_line = doc.keys[path][0]
    line, col = doc.values.get(path, (0, 0))
    names = [scalar(m) for m in missing]
    if line == key_line and lines[line - 1][col - 1 : col] == "[":
        text = lines[line - 1]
        end = _closing_bracket(text, col - 1)
        if end is None:
            return False
        inner = text[col:end].strip()
        joined = ", ".join([inner, *names] if inner else names)
        lines[line - 1] = f"{text[: col - 1]}[{joined}]{text[end + 1 :]}"
        return True
    items = sorted(pos for p, pos in doc.values.items() if len(p) == 3 and p[:2] == path)
    if line <= key_line or not items:
        return False
    last_line, item_col = items[-1]
    dash = " " * max(item_col - 3, 0) + "- "
    lines[last_line:last_line] = [dash + n for n in names]
    return True


def _closing_bracket(text: str, start: int) -> int | None:
    """Index of the ``]`` closing the flow list opened at ``text[start]``, outside quotes."""
    quote: str | None = None
    i = start + 1
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            return None  # nested: not a plain list of names
        elif ch == "]":
            return i
        i += 1
    return None


def _replaced_link(merge: Merge, path: Path, what: str, *, force: bool) -> bool:
    """A symbolic link where export writes is never read or written through: with ``force`` it
    is replaced by a regular file (True), otherwise export stops and says why."""
    if not path.is_symlink():
        return False
    if not force:
        raise ConfigError(
            f"{path} is a symbolic link: export reads and writes regular files only, never "
            "through a link. Remove it, or pass --force to replace the link with the exported file"
        )
    merge.outcomes.append(Outcome(path.name, "replaced", f"{what} (a symbolic link was there)"))
    return True
