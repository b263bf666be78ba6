"""`reconciler show PLAN.json` renders a saved plan as `plan` did; `validate --format json`."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from .conftest import EXAMPLES, REPO, Env

VALIDATE_SCHEMA = json.loads(
    (REPO / "schemas" / "validate.schema.json").read_text(encoding="utf-8")
)


@pytest.fixture
def saved(env: Env) -> Path:
    path = env.root / "plan.json"
    result = env.run("plan", str(EXAMPLES), "--out", str(path))
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "github"])
def test_show_renders_the_saved_plan_as_plan_printed_it(env: Env, fmt: str) -> None:
    path = env.root / "plan.json"
    printed = env.run("plan", str(EXAMPLES), "--format", fmt, "--out", str(path))
    assert printed.exit_code == 0, printed.output
    shown = env.run("show", str(path), "--format", fmt)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout == printed.stdout
    assert "Plan: 19 changes" in shown.stdout or fmt == "json"


def test_show_refuses_a_modified_plan(env: Env, saved: Path) -> None:
    data = json.loads(saved.read_text(encoding="utf-8"))
    data["changes"][0]["after"]["balance"] = "99999.00"
    saved.write_text(json.dumps(data), encoding="utf-8")
    result = env.run("show", str(saved))
    assert result.exit_code == 1
    assert "checksum does not match its content" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("not json", "cannot read the saved plan", id="not-json"),
        pytest.param("{}", "not a plan saved by `reconciler plan --out`", id="not-a-plan"),
    ],
)
def test_show_refuses_what_is_not_a_plan(env: Env, text: str, message: str) -> None:
    path = env.root / "x.json"
    path.write_text(text, encoding="utf-8")
    result = env.run("show", str(path))
    assert result.exit_code == 1 and message in result.stderr


def test_show_notes_an_expired_plan(env: Env, saved: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.time", lambda: 4_000_000_000.0)  # the year 2096
    result = env.run("show", str(saved))
    assert result.exit_code == 0
    assert "this plan expired at" in result.stderr and "apply --plan` refuses it" in result.stderr


def test_validate_json_when_valid(env: Env) -> None:
    result = env.run("validate", str(EXAMPLES), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(VALIDATE_SCHEMA).validate(data)
    assert data["valid"] is True and data["problems"] == []
    assert data["entries"] == 38 and len(data["files"]) == 6
    assert data["manifest_checksum"].startswith("sha256:")


def test_validate_json_lists_every_problem_and_exits_1(env: Env) -> None:
    bad = env.write(
        "bad.yaml",
        "apiVersion: partner-reconciler/v1\nkind: ResellerQuota\nmetadata: {name: q}\n"
        'spec:\n  distributorQuota: "1"\n  resellers:\n'
        '    - {reseller: a, balance: 12.5}\n    - {reseller: b, balanse: "1.00"}\n',
    )
    result = env.run("validate", str(bad), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(VALIDATE_SCHEMA).validate(data)
    assert data["valid"] is False and data["manifest_checksum"] is None
    found = {(p["line"], p["col"], p["path"]) for p in data["problems"]}
    assert (7, 30, "spec.resellers[0].balance") in found
    assert (8, 7, "spec.resellers[1]") in found  # and its missing balance
    assert (8, 21, "spec.resellers[1].balanse") in found
    assert all(p["file"] == str(bad) for p in data["problems"])
