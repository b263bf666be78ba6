"""Reading the GitHub workflows: their YAML, steps, shell scripts and the `reconciler` commands
in those scripts. Shared by the workflow tests."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

import yaml

from tests.cli_env import REPO

WORKFLOWS = REPO / ".github" / "workflows"
# The workflows this project ships for a partner's repository, and its own CI.
NAMES = ("ci.yml", "plan.yml", "apply.yml", "drift.yml", "budget.yml")
# Every workflow in the directory, including any added later: the security rules hold for all.
ALL = tuple(sorted(p.name for p in WORKFLOWS.glob("*.yml")))
OPERATORS = {";", "&&", "||", "|", "(", ")", "&", "{", "}", "then", "do", "else", "!"}
REDIRECTS = {">", ">>", "<", ">&", "<&", ">|"}
SECRET = re.compile(r"\$\{\{\s*secrets\.")


def workflow(name: str) -> dict[str, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    if True in loaded:  # PyYAML reads the key `on` as the YAML 1.1 boolean
        loaded["on"] = loaded.pop(True)
    return loaded


def steps(wf: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_name, job in wf["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, step


def scripts(name: str) -> Iterator[tuple[str, str]]:
    for job_name, step in steps(workflow(name)):
        if "run" in step:
            yield f"{name}:{job_name}:{step.get('name', step['run'][:30])}", step["run"]


def step(name: str, job: str, step_name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        s for s in workflow(name)["jobs"][job]["steps"] if s.get("name") == step_name
    ]
    assert len(found) == 1, (name, job, step_name)
    return found[0]


def simple_commands(script: str) -> Iterator[list[str]]:
    """Each simple command of a shell script, as words, without redirections."""
    text = script.replace("\\\n", " ")
    for line in text.splitlines():
        if line.strip().startswith("#"):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        skip = False
        for token in lexer:
            if skip:
                skip = False
            elif token in REDIRECTS:
                skip = True
                if words and words[-1] in ("1", "2"):
                    words.pop()  # the fd of `2>`
            elif token in OPERATORS:
                if words:
                    yield words
                words = []
            else:
                words.append(token)
        if words:
            yield words


def reconciler_commands() -> list[tuple[str, list[str]]]:
    found = []
    for name in NAMES:
        for where, script in scripts(name):
            for words in simple_commands(script):
                argv = list(words)
                while argv and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", argv[0]):
                    argv = argv[1:]  # VAR=value prefixes
                if argv and argv[0] == "reconciler":
                    found.append((where, argv))
    return found


def secret_names(node: object) -> set[str]:
    """The secrets an expression anywhere in ``node`` reads, by any syntax GitHub accepts."""
    text = yaml.safe_dump(node) if not isinstance(node, str) else node
    inherit = re.search(r"\bsecrets\s*:\s*inherit\b", text)
    text = "\n".join(re.findall(r"\$\{\{(.*?)\}\}", text, re.S))  # expressions only
    names = set(re.findall(r"secrets\s*\.\s*([A-Za-z0-9_]+)", text))
    names |= set(re.findall(r"secrets\s*\[\s*['\"]([A-Za-z0-9_]+)['\"]\s*\]", text))
    if re.search(r"toJSON\s*\(\s*secrets\s*\)|secrets\s*\[\s*[^'\"\s]", text, re.I):
        names.add("*")  # every secret at once, or one chosen at run time
    if inherit:
        names.add("*")
    return names
