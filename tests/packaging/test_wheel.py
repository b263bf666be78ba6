"""The package as a team receives it: built from a shallow clone without tags into an sdist and a
wheel, checked by twine, installed into a fresh virtual environment from the wheel alone (the
runtime dependencies from the wheelhouse `make` downloads, no index), and run from outside the
source tree: `reconciler --version`, `reconciler plan` on the repository's examples, the demo.

The clone holds the working tree as it is (uncommitted changes too), so the test checks what
would be committed; it builds with the locked setuptools and setuptools-scm (no isolation)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.kinds import registry
from reconciler.manifests.published import SHARED

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WHEELHOUSE = REPO / ".venv" / "wheelhouse"
# A clone without tags builds as 0.1.devN+g<commit>; N is 1 in a shallow clone.
DEV_VERSION = re.compile(r"^0\.1\.dev1\+g[0-9a-f]{7,}(\.d[0-9]{8})?$")
CLEARED = ("RECONCILER_", "HUAWEICLOUD_", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PIP_")

# One build per run: the tests of this module share its fixtures on one xdist worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]


def run(
    args: Sequence[str | Path], *, cwd: Path, env: dict[str, str] | None = None, want: int = 0
) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == want, f"{args} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def working_tree_clone(dest: Path) -> Path:
    """A shallow clone without tags, with the working tree's files (and deletions) on top."""
    run(["git", "clone", "--quiet", "--depth", "1", "--no-tags", REPO.as_uri(), dest], cwd=REPO)
    listed = run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO
    ).split("\0")
    present = {name for name in listed if name and (REPO / name).is_file()}
    for name in present:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / name, dest / name)
    cloned = run(["git", "ls-files", "-z"], cwd=dest).split("\0")
    for name in cloned:
        if name and name not in present:
            (dest / name).unlink()
    run(["git", "add", "--all"], cwd=dest)
    return dest


@dataclass(frozen=True)
class Built:
    version: str
    sdist: Path
    wheel: Path


@dataclass(frozen=True)
class Installed:
    bin: Path
    env: dict[str, str]
    cwd: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("build")
    clone = working_tree_clone(root / "clone")
    version = run([BIN / "python", "-m", "setuptools_scm"], cwd=clone).strip().splitlines()[-1]
    dist = root / "dist"
    run([BIN / "python", "-m", "build", "--no-isolation", "--outdir", dist, clone], cwd=root)
    run([BIN / "twine", "check", "--strict", *sorted(dist.iterdir())], cwd=root)
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    return Built(version, sdist, wheel)


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    assert WHEELHOUSE.is_dir(), f"{WHEELHOUSE} is missing: run `make` (it downloads it)"
    root = tmp_path_factory.mktemp("installed")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=root)
    pip: list[str | Path] = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        venv / "bin" / "python",
        "install",
        "-q",
    ]
    run([*pip, "--no-index", "--find-links", WHEELHOUSE, built.wheel], cwd=root)
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != BIN]
    env.update(
        PATH=os.pathsep.join([str(venv / "bin"), *path]),
        RECONCILER_STATE_DIR=str(root / "state"),
        RECONCILER_RATE="500",
        NO_COLOR="1",
    )
    cwd = root / "elsewhere"
    cwd.mkdir()
    yield Installed(venv / "bin", env, cwd)


def test_the_version_comes_from_git_and_falls_back_without_tags(built: Built) -> None:
    assert DEV_VERSION.match(built.version), built.version
    assert built.wheel.name.startswith(f"partner_reconciler-{built.version}-py3-none-any")


def test_the_wheel_holds_the_schemas_the_demo_seed_and_the_licenses(built: Built) -> None:
    names = set(zipfile.ZipFile(built.wheel).namelist())
    shared = {f"reconciler/schemas/{s}" for s in SHARED}
    kinds = {f"{k.package.replace('.', '/')}/{k.schema_file}" for k in registry.KINDS}
    assert len(shared | kinds) >= 7
    assert shared | kinds <= names
    assert "reconciler/emulator/seeds/demo.yaml" in names
    assert "reconciler/py.typed" in names
    assert "reconciler/_version.py" in names
    info = f"partner_reconciler-{built.version}.dist-info"
    assert {f"{info}/licenses/LICENSE", f"{info}/licenses/NOTICE"} <= names
    assert not any(n.startswith(("tests/", "bench/", "examples/")) for n in names)
    metadata = zipfile.ZipFile(built.wheel).read(f"{info}/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata


def test_the_sdist_holds_the_licenses_and_builds_the_same_version(built: Built) -> None:
    listing = run(["tar", "-tzf", built.sdist], cwd=built.sdist.parent).splitlines()
    top = f"partner_reconciler-{built.version}"
    assert {f"{top}/LICENSE", f"{top}/NOTICE", f"{top}/PKG-INFO"} <= set(listing)
    assert f"{top}/reconciler/emulator/seeds/demo.yaml" in listing


def test_the_installed_command_runs_from_the_wheel(built: Built, installed: Installed) -> None:
    out = run([installed.bin / "reconciler", "--version"], cwd=installed.cwd, env=installed.env)
    assert out == f"reconciler, version {built.version}\n"
    where = run(
        [installed.bin / "python", "-c", "import reconciler; print(reconciler.__file__)"],
        cwd=installed.cwd,
        env=installed.env,
    )
    assert Path(where.strip()).is_relative_to(installed.bin.parent), where


def test_plan_the_examples_from_outside_the_source_tree(installed: Installed) -> None:
    examples = REPO / "examples"
    reconciler = installed.bin / "reconciler"
    ok = run([reconciler, "validate", examples / "manifests"], cwd=installed.cwd, env=installed.env)
    assert ok.startswith(f"OK: {len(registry.KINDS) + 1} file(s)")  # a file per kind, and Settings
    plan = run(
        [reconciler, "plan", examples / "manifests", "--detailed-exitcode"],
        cwd=installed.cwd,
        env=installed.env,
        want=2,
    )
    assert "Plan: " in plan
    run(
        [reconciler, "plan", examples / "in-sync", "--detailed-exitcode"],
        cwd=installed.cwd,
        env=installed.env,
    )
    assert (Path(installed.env["RECONCILER_STATE_DIR"]) / "emulator-state.json").is_file()
    assert list(installed.cwd.iterdir()) == [], "nothing written to the working directory"


def test_the_demo_runs_on_the_installed_command(installed: Installed, tmp_path: Path) -> None:
    env = {**installed.env, "RECONCILER_STATE_DIR": str(tmp_path / "demo-state")}
    assert shutil.which("reconciler", path=env["PATH"]) == str(installed.bin / "reconciler")
    out = run(["bash", REPO / "scripts" / "demo.sh"], cwd=installed.cwd, env=env)
    assert "Apply: 16 applied, 0 failed, 3 manual, 0 unknown" in out
    assert out.rstrip().endswith("No changes. Live state matches the manifests.")


def test_pipx_installs_the_wheel(built: Built, tmp_path: Path) -> None:
    """README's way for a team: `pipx install` (offline here, from the wheelhouse)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    env.update(PIPX_HOME=str(tmp_path / "pipx"), PIPX_BIN_DIR=str(tmp_path / "bin"))
    offline = f"--no-index --find-links {WHEELHOUSE}"
    run([BIN / "pipx", "install", "--pip-args", offline, built.wheel], cwd=tmp_path, env=env)
    out = run([tmp_path / "bin" / "reconciler", "--version"], cwd=tmp_path, env=env)
    assert out == f"reconciler, version {built.version}\n"
