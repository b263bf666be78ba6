"""The served control plane answers only this machine: DNS rebinding, cross-origin requests and
form posts are refused; a reset keeps the keys the server was started with; the CLI shows what
the emulator holds without passing control characters to the terminal."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from reconciler.emulator import Emulator, EmulatorRequest
from reconciler.emulator.cli import emulator as emulator_cli
from reconciler.emulator.credentials import EmulatorCredentials
from reconciler.emulator.server import EmulatorServer, make_server

from .client import Api
from .conftest import DEMO_DOC

SUB = "/v2/partners/sub-customers/query"
EXTRA = EmulatorCredentials("MYSERVEAK0000000001", "my-serve-secret-key-for-tests")
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmulatorServer]:
    srv = make_server(
        "127.0.0.1",
        0,
        state_file=tmp_path / "state.json",
        seed=DEMO_DOC,
        credentials=[EXTRA],
        allowed_hosts=["emulator.test"],
    )
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def send(srv: EmulatorServer, method: str, path: str, **kw: Any) -> httpx.Response:
    with httpx.Client(base_url=srv.url) as client:
        return client.request(method, path, **kw)


@pytest.mark.parametrize(
    "host", ["attacker.example", "attacker.example:8765", "127.0.0.1.attacker.example", ""]
)
def test_a_foreign_host_header_is_refused(server: EmulatorServer, host: str) -> None:
    """DNS rebinding: the page's own host name arrives in Host."""
    resp = send(server, "GET", "/_emulator/state", headers={"Host": host})
    assert resp.status_code == 403
    assert resp.json()["error_code"] == "EMULATOR.0403"
    assert EXTRA.sk not in resp.text and "secret" not in resp.text


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.2:99", "[::1]:8765",
                                  "emulator.test", "EMULATOR.TEST:1"])  # fmt: skip
def test_this_machine_and_configured_hosts_are_answered(server: EmulatorServer, host: str) -> None:
    resp = send(server, "GET", "/_emulator/calls", headers={"Host": host})
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": "text/plain", "Origin": "https://attacker.example"}, 403),
        ({**JSON, "Origin": "https://attacker.example"}, 403),
        ({**JSON, "Origin": "null"}, 403),
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({}, 415),
        (JSON, 201),
        ({**JSON, "Origin": "http://127.0.0.1:1234"}, 201),
    ],
    ids=[
        "cross-origin-text-plain",
        "cross-origin-json",
        "null-origin",
        "text-plain",
        "form",
        "no-content-type",
        "json",
        "same-machine-origin",
    ],
)
def test_a_fault_is_only_added_by_a_json_request_from_this_machine(
    server: EmulatorServer, headers: dict[str, str], status: int
) -> None:
    fault = json.dumps({"operation": "*", "kind": "http_500"})
    resp = send(server, "POST", "/_emulator/faults", content=fault, headers=headers)
    assert resp.status_code == status, resp.text
    assert len(server.emulator.faults()) == (1 if status == 201 else 0)


def test_the_api_itself_is_not_affected_by_the_host_check(server: EmulatorServer) -> None:
    api = Api(server.emulator, host="bss.example", scheme="http", transport=httpx.HTTPTransport())
    api.extra_headers = {}
    _, headers, content = api.build("POST", SUB, body={})
    with httpx.Client() as client:
        resp = client.post(server.url + SUB, headers=headers, content=content)
    assert resp.status_code == 200


def test_a_reset_keeps_the_keys_given_to_serve(server: EmulatorServer) -> None:
    host = server.url.removeprefix("http://")
    api = Api(server.emulator, EXTRA.ak, EXTRA.sk, host=host, scheme="http",
              transport=httpx.HTTPTransport())  # fmt: skip
    assert api.post(SUB, {}).status == 200
    assert send(server, "POST", "/_emulator/reset", headers=JSON).status_code == 200
    assert api.post(SUB, {}).status == 200, "the serve keys survive a reset"
    seed = json.dumps({"customers": [{"customer_id": "c1", "account_name": "c1"}]})
    assert send(server, "POST", "/_emulator/seed", content=seed, headers=JSON).status_code == 200
    assert api.post(SUB, {}).status == 200, "and a new seed"


def test_the_cli_spells_out_control_characters_from_the_call_log(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    emu = Emulator(state_file=state, seed=DEMO_DOC)
    emu.handle(EmulatorRequest("GET", "/v2/\x1b]52;c;ZXZpbA==\x07\x9b2J##[error]", "", {}, b""))
    text = CliRunner().invoke(emulator_cli, ["calls", "--state", str(state)])
    assert text.exit_code == 0, text.output
    assert "\x1b" not in text.output and "\x9b" not in text.output and "\x07" not in text.output
    assert "##[" not in text.output
    assert "/v2/\\x1b]52;c;ZXZpbA==\\x07\\x9b2J#\\x23[error]" in text.output
    as_json = CliRunner().invoke(emulator_cli, ["calls", "--state", str(state), "--json"])
    assert "\x1b" not in as_json.output and "##[" not in as_json.output
    assert json.loads(as_json.output)["path"].startswith("/v2/\x1b]52;")


def test_serve_shows_a_given_access_key_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reconciler.emulator.server as server_module

    def fake_serve(host: str, port: int, **kw: Any) -> None:
        class Ready:
            url = "http://127.0.0.1:1"

        kw["ready"](Ready())

    monkeypatch.setattr(server_module, "serve", fake_serve)
    args = ["serve", "--state", str(tmp_path / "s.json"), "--ak", EXTRA.ak, "--sk", EXTRA.sk]
    result = CliRunner().invoke(emulator_cli, args)
    assert result.exit_code == 0, result.output
    assert EXTRA.ak not in result.output and EXTRA.sk not in result.output
    assert "(partner AK MYSE…0001)" in result.output
