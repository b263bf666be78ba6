"""Secrets in messages, cleartext endpoints, CI-log framing and the files the CLI writes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.bss.client import BssClient
from reconciler.bss.credentials import Credentials, Secret
from reconciler.connect import insecure_endpoints_allowed, resolve_target
from reconciler.emulator.server import EmulatorServer, make_server
from reconciler.errors import ConfigError
from reconciler.files import write_private
from tests.cli_env import IN_SYNC, Env, env

from .hostile import assert_markdown_safe, runner_commands

__all__ = ["env"]
UNKNOWN_AK = "ZZQXUNKNOWNACCESSKEY0042"
NO_CREDENTIALS = {
    "HUAWEICLOUD_SDK_AK": "",
    "HUAWEICLOUD_SDK_SK": "",
    "RECONCILER_CREDENTIALS_FILE": "/nonexistent/credentials.yaml",
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[EmulatorServer]:
    srv = make_server("127.0.0.1", 0, state_file=tmp_path / "served.json")
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def test_a_401_does_not_print_the_access_key(
    env: Env, served: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_ENDPOINT", served.url)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", UNKNOWN_AK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "an-unknown-secret-key-for-this-test")
    for fmt in ("text", "json", "markdown", "github"):
        result = env.run("plan", str(env.manifests()), "--format", fmt)
        assert result.exit_code == 1, result.output
        assert "401" in result.stderr
        assert UNKNOWN_AK not in result.output
        assert "ZZQX…0042" in result.stderr  # masked: enough to tell keys apart


@pytest.mark.parametrize(
    ("endpoint", "iam", "ok"),
    [
        ("https://bss.myhuaweicloud.com", None, True),
        ("http://127.0.0.1:8765", None, True),
        ("http://localhost:8765", None, True),
        ("http://[::1]:8765", None, True),
        ("http://bss.example.com", None, False),
        ("http://10.0.0.5:8765", None, False),
        ("https://bss.example.com", None, True),
        ("https://bss.myhuaweicloud.com", "http://iam.example.com", False),
        ("https://bss.myhuaweicloud.com", "http://127.0.0.1:9", True),
    ],
)
def test_cleartext_only_to_this_machine(endpoint: str, iam: str | None, ok: bool) -> None:
    env = {"RECONCILER_IAM_ENDPOINT": iam} if iam else {}
    if ok:
        assert resolve_target(endpoint, env=env).endpoint == endpoint
        return
    with pytest.raises(ConfigError, match="plain http:// to a host other than this machine"):
        resolve_target(endpoint, env=env)
    with insecure_endpoints_allowed(True):
        assert resolve_target(endpoint, env=env).allow_insecure
    assert resolve_target(endpoint, env={**env, "RECONCILER_ALLOW_INSECURE_ENDPOINT": "1"})


def test_the_client_refuses_cleartext_too() -> None:
    creds = Credentials(ak="AKFORCLEARTEXTTEST01", sk=Secret("sk-for-the-cleartext-test"))
    with pytest.raises(ConfigError, match="allow-insecure-endpoint"):
        BssClient("http://bss.example.com", creds)
    with pytest.raises(ConfigError, match="IAM endpoint"):
        BssClient("https://bss.example.com", creds, iam_endpoint="http://iam.example.com")
    BssClient("http://bss.example.com", creds, allow_insecure_endpoint=True)


def test_the_cli_flag_lets_cleartext_through(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in NO_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    manifests = str(env.manifests())
    refused = env.run("plan", manifests, "--endpoint", "http://bss.example.com")
    assert refused.exit_code == 1
    assert "refusing the endpoint 'http://bss.example.com'" in refused.stderr
    allowed = env.run(
        "plan", manifests, "--endpoint", "http://bss.example.com", "--allow-insecure-endpoint"
    )
    assert allowed.exit_code == 1
    assert "no partner credentials found" in allowed.stderr  # got past the endpoint check


# -- CI logs -----------------------------------------------------------------------------------


def test_text_in_a_job_log_is_framed_by_stop_commands(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = env.run("plan", str(env.manifests()))
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::stop-commands::reconciler-")
    token = lines[0].removeprefix("::stop-commands::")
    assert lines[-1] == f"::{token}::"
    assert "No changes." in result.stdout
    assert runner_commands("\n".join(lines[1:-1])) == []


@pytest.mark.parametrize("fmt", ["github", "json", "markdown"])
def test_machine_formats_are_not_framed(
    env: Env, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = env.run("plan", str(env.manifests()), "--format", fmt)
    assert "stop-commands" not in result.stdout


def test_text_redirected_into_a_file_is_not_framed(env: Env) -> None:
    manifests = env.manifests(IN_SYNC)
    out = env.root / "plan.txt"
    with out.open("w", encoding="utf-8") as handle:
        subprocess.run(
            [sys.executable, "-c", "from reconciler.cli import main; main()", "plan",
             str(manifests)],
            env={**os.environ, "GITHUB_ACTIONS": "true", "RECONCILER_RATE": "10000"},
            cwd=env.root, stdout=handle, stderr=subprocess.PIPE, check=True, timeout=120,
        )  # fmt: skip
    text = out.read_text(encoding="utf-8")
    assert "No changes." in text
    assert "stop-commands" not in text


# -- files -------------------------------------------------------------------------------------


def _plant(target: Path, victim: Path) -> None:
    """A link at the target and at the old fixed temporary name, both to ``victim``."""
    target.symlink_to(victim)
    target.with_name(target.name + ".tmp").symlink_to(victim)


def _assert_written_safely(target: Path, victim: Path) -> None:
    assert victim.read_text(encoding="utf-8") == "victim"
    assert victim.stat().st_mode & 0o777 == 0o644
    assert not target.is_symlink()
    assert target.stat().st_mode & 0o777 == 0o600
    leftovers = [p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.")]
    assert leftovers == []


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text("victim", encoding="utf-8")
    path.chmod(0o644)
    return path


def test_plan_out_and_drift_out_never_write_through_a_link(env: Env, victim: Path) -> None:
    manifests = str(env.manifests())
    for command, name in (("plan", "plan.json"), ("drift", "drift.json")):
        target = env.root / name
        _plant(target, victim)
        result = env.run(command, manifests, "--out", str(target))
        assert result.exit_code == 0, result.output
        _assert_written_safely(target, victim)


def test_apply_report_and_manual_steps_never_write_through_a_link(env: Env, victim: Path) -> None:
    report, steps = env.root / "report.json", env.root / "steps.md"
    _plant(report, victim)
    _plant(steps, victim)
    result = env.run("apply", str(env.copy_examples()), "--auto-approve", "--report",
                     str(report), "--manual-steps", str(steps))  # fmt: skip
    assert result.exit_code == 0, result.output
    _assert_written_safely(report, victim)
    _assert_written_safely(steps, victim)


def test_a_planted_temporary_file_is_never_opened(
    tmp_path: Path, victim: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler import files

    monkeypatch.setattr(files, "_temp_name", lambda t: t.with_name(f".{t.name}.guessed.tmp"))
    target = tmp_path / "out.json"
    (tmp_path / ".out.json.guessed.tmp").symlink_to(victim)
    with pytest.raises(ConfigError, match=f"cannot write {target}"):
        write_private(target, "new")
    assert victim.read_text(encoding="utf-8") == "victim"
    assert not target.exists()


def test_a_directory_is_not_a_target(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="it is a directory"):
        write_private(tmp_path, "x")


# -- annotations -------------------------------------------------------------------------------

HOSTILE_MANIFEST = """\
apiVersion: partner-reconciler/v1
kind: AccountManagers
metadata: {name: managers}
spec:
  customers:
    - {customer: "::error,file=README.md::x\\e[2J\\u202e", manager: li.na}
    - {customer: "##[add-mask]a%0A::warning::b", manager: li.na}
"""


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_annotations_are_the_only_commands_and_point_at_the_manifest(
    env: Env, command: str
) -> None:
    """Manifest problems (some only live state reveals) as annotations: escaped, on our file."""
    path = env.write("managers.yaml", HOSTILE_MANIFEST)
    if command == "validate":
        path.write_text(HOSTILE_MANIFEST.replace("li.na", "li na"), encoding="utf-8")
    result = env.run(command, str(path), "--format", "github")
    assert result.exit_code == 1, result.output
    commands = runner_commands(result.stdout)
    assert commands, result.output
    for name, props in commands:
        assert name == "error"
        assert props["file"] == str(path).replace(":", "%3A").replace(",", "%2C")
    assert runner_commands(result.stderr) == []
    for text in (result.stdout, result.stderr):
        assert "\x1b" not in text and "\u202e" not in text and "##[" not in text


def test_progress_lines_are_escaped() -> None:
    import io

    from reconciler.render.progress import TtyProgress

    stream = io.StringIO()
    progress = TtyProgress(stream)
    progress.line("Loading manifests from x\x1b]52;c;ZXZpbA==\x07 ##[error]y")
    progress.finish("done \u202e")
    assert stream.getvalue() == (
        "Loading manifests from x\\x1b]52;c;ZXZpbA==\\x07 #\\x23[error]y\ndone \\u202e\n"
    )


def test_apply_progress_and_notices_stay_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from reconciler.cli.apply import _notice, _progress

    _progress("  applied  name\n::error::forged\x1b[2J")
    _notice("Took over the lease of x\r::warning::y")
    captured = capsys.readouterr()
    assert captured.out == "  applied  name\\n::error::forged\\x1b[2J\n"
    assert captured.err == "Took over the lease of x\\r::warning::y\n"


def test_a_failed_markdown_plan_is_a_comment_the_error_cannot_escape(env: Env) -> None:
    path = env.write("managers.yaml", HOSTILE_MANIFEST.replace("##[add-mask]", "```<img>`"))
    result = env.run("plan", str(path), "--format", "markdown")
    assert result.exit_code == 1
    assert result.stdout.startswith("<!-- partner-reconciler:plan -->\n")
    assert "## partner-reconciler plan: failed" in result.stdout
    assert_markdown_safe(result.stdout)
    assert "no customer" in result.stdout


def test_the_emulator_never_opens_a_planted_lock_link(tmp_path: Path, victim: Path) -> None:
    from reconciler.emulator import Emulator

    state = tmp_path / "emulator-state.json"
    (tmp_path / "emulator-state.json.lock").symlink_to(victim)
    with pytest.raises(OSError):
        Emulator(state_file=state)
    assert victim.read_text(encoding="utf-8") == "victim"
