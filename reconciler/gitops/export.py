"""Export: write the live partner account as manifests, so an existing account can be adopted.

``reconciler export DIR`` reads live state through the client and writes, in the layout a person
would write by hand (``examples/manifests``), one file per kind (``export --kind`` picks them;
each kind's package says what it reads and writes) and ``settings.yaml`` (the agency name and the
roster of managers seen).

The promise is a round trip: ``plan`` on what export wrote shows no changes, and ``drift`` none.
So each kind writes exactly what the plan reads, counted the way its diff counts it, with
references the reader resolves (an account name when it is unique and has no space, else the
ID). Nothing here writes to the account.

The files are staged and validated before any of them replaces a file in the target directory
(:func:`reconciler.files.write_files`): if what export produced does not load, the directory is
left as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import ConfigError
from reconciler.files import write_files
from reconciler.gitops.account import ExportAccount
from reconciler.gitops.export_merge import (
    Merge,
    Outcome,
    merge_kind_file,
    merge_settings,
    only_undeclared,
)
from reconciler.gitops.export_read import ExportScope, read_account
from reconciler.gitops.export_yaml import SETTINGS_FILE, render_files
from reconciler.kinds import registry
from reconciler.memory import run as run_coroutine

if TYPE_CHECKING:
    from reconciler.emulator.clock import Clock
    from reconciler.manifests.desired import DesiredState
    from reconciler.manifests.document import Document
    from reconciler.plan.progress import Progress


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    outcomes: tuple[Outcome, ...]  # per file: written, replaced, merged or unchanged
    warnings: tuple[str, ...]
    partner_id: str
    endpoint: str
    agency_name: str | None = None

    @property
    def written(self) -> tuple[tuple[str, str], ...]:
        """(file name, what happened to it), for people."""
        return tuple((o.name, f"{o.action}: {o.what}") for o in self.outcomes)


def run_export(
    directory: Path,
    scope: ExportScope,
    *,
    force: bool = False,
    endpoint: str | None = None,
    profile: str | None = None,
    clock: Clock | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Read live state and write or merge the manifests into ``directory``
    (:mod:`reconciler.gitops.export_merge`); the result must validate before anything is
    written."""
    from reconciler.connect import connect, resolve_target

    target = resolve_target(endpoint, profile)
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory} exists and is not a directory")
    existing, documents = _existing(directory)

    async def read() -> ExportAccount:
        async with connect(target, clock=clock) as conn:
            account = ExportAccount(conn.partner_id, target.label, conn.agency_name)
            await read_account(conn.client, scope, account, progress=progress, clock=clock)
            return account

    account = run_coroutine(read())
    merge = _merge(directory, scope, account, existing, documents, force=force)
    texts = {path.name: text for path, text in merge.texts.items()}
    write_files(directory, texts, check=lambda staged: _check(directory, staged))
    return ExportResult(
        directory=directory,
        outcomes=tuple(merge.outcomes),
        warnings=(*account.warnings, *merge.warnings),
        partner_id=account.partner_id,
        endpoint=account.endpoint,
        agency_name=account.agency_name or (existing.settings.agency_name if existing else None),
    )


def target_files(scope: ExportScope) -> list[str]:
    files = [k.export_file for k in registry.with_exports() if k.id in scope.kinds]
    return [f for f in files if f] + [SETTINGS_FILE]


def _merge(
    directory: Path,
    scope: ExportScope,
    account: ExportAccount,
    existing: DesiredState | None,
    documents: Sequence[Document],
    *,
    force: bool,
) -> Merge:
    schema_dir = _schema_dir(directory)
    files = render_files(account, scope, schema_dir=schema_dir)
    news = render_files(account, scope, schema_dir=schema_dir, only=only_undeclared(existing))
    merge = Merge()
    for kind in registry.with_exports():
        if kind.id in scope.kinds and kind.export_file:
            name = kind.export_file
            taken = {d.name for d in documents if d.kind == kind.manifest_kind}
            merge_kind_file(merge, directory / name, files[name], news[name], force=force,
                            taken=taken, schema_dir=schema_dir)  # fmt: skip
    settings = next((d for d in documents if d.kind == "Settings"), None)
    roster = sorted({c.account_manager for c in account.customers if c.account_manager})
    merge_settings(merge, directory, files[SETTINGS_FILE], settings, roster,
                   account.agency_name, force=force)  # fmt: skip
    return merge


def _existing(directory: Path) -> tuple[DesiredState | None, tuple[Document, ...]]:
    """The manifests already in ``directory`` (they must be valid: export merges into them)."""
    from reconciler.errors import ManifestError
    from reconciler.manifests.load import load_desired
    from reconciler.manifests.loader import load_documents

    if not directory.is_dir():
        return None, ()
    loaded = load_documents([directory])
    if not loaded.documents and all(p.position.file == str(directory) for p in loaded.problems):
        return None, ()  # no manifest here yet
    try:
        return load_desired([directory]), loaded.documents
    except ManifestError as err:
        raise ConfigError(
            f"the manifests already in {directory} do not validate; export merges into them, "
            f"so fix them first:\n{err}"
        ) from err


def _check(directory: Path, staged: Mapping[str, Path]) -> None:
    """The directory as it will be (what is there now, with the staged files over it) must
    load the way ``plan DIR`` reads it; anything else is a bug worth a loud error, and nothing
    is written."""
    from reconciler.errors import ManifestError
    from reconciler.manifests.load import load_desired

    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / "manifests"
        if directory.is_dir():
            shutil.copytree(directory, trial, ignore=shutil.ignore_patterns(".*"), symlinks=True)
        trial.mkdir(parents=True, exist_ok=True)
        for name, path in staged.items():
            (trial / name).unlink(missing_ok=True)  # a link there would be written through
            shutil.copyfile(path, trial / name)
        try:
            load_desired([trial])
        except ManifestError as err:
            shown = str(err).replace(str(trial), str(directory))
            raise ConfigError(
                "the exported manifests do not validate (a bug, please report it); nothing "
                f"was written:\n{shown}"
            ) from err


def _schema_dir(directory: Path) -> str:
    """The modeline's path to ``schemas/``: the nearest one above ``directory``, else ``../``."""
    here = directory.resolve()
    for parent in [here, *here.parents]:
        if (parent / "schemas" / "manifest.schema.json").is_file():
            rel = Path(*[".."] * len(here.relative_to(parent).parts)) / "schemas"
            return rel.as_posix()
    return "../schemas"
