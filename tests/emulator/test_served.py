"""Served mode on an ephemeral loopback port, and the ``emulator`` CLI commands."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from reconciler.emulator.cli import emulator as emulator_cli
from reconciler.emulator.latency import LatencyModel
from reconciler.emulator.server import EmulatorServer, make_server, stamp_arrivals

from . import demo
from .client import Api
from .conftest import DEMO_DOC

SUB = "/v2/partners/sub-customers/query"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmulatorServer]:
    srv = make_server("127.0.0.1", 0, state_file=tmp_path / "state.json", seed=DEMO_DOC)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def served_api(srv: EmulatorServer) -> Api:
    host = srv.url.removeprefix("http://")
    return Api(srv.emulator, host=host, scheme="http", transport=httpx.HTTPTransport())


def test_signed_request_over_http_returns_the_seeded_customers(server: EmulatorServer) -> None:
    reply = served_api(server).post(SUB, {"offset": 0, "limit": 100})
    assert reply.status == 200
    assert reply.json["count"] == demo.CUSTOMER_COUNT
    assert len(reply.json["customer_infos"]) == demo.CUSTOMER_COUNT
    assert reply.headers["x-request-id"]
    assert reply.headers["content-type"] == "application/json;charset=UTF-8"


def test_wrongly_signed_request_over_http_is_401(server: EmulatorServer) -> None:
    api = served_api(server)
    api.sk = "not-the-secret"
    reply = api.post(SUB, {})
    assert (reply.status, reply.code) == (401, "APIG.0301")


def test_signature_covers_the_port(server: EmulatorServer) -> None:
    api = served_api(server)
    api.extra_headers = {"Host": "127.0.0.1:1"}  # signed as port 1, sent to the real port
    _, headers, content = api.build("POST", SUB, body={})
    headers["Host"] = server.url.removeprefix("http://")  # what is really sent
    with httpx.Client() as client:
        resp = client.post(server.url + SUB, headers=headers, content=content)
    assert resp.status_code == 401


def test_a_dropped_response_closes_the_connection(server: EmulatorServer) -> None:
    server.emulator.add_fault("list_sub_customers", "commit_then_drop")
    with pytest.raises(httpx.RemoteProtocolError):
        served_api(server).post(SUB, {})
    assert served_api(server).post(SUB, {}).status == 200


def test_control_plane_and_501_over_http(server: EmulatorServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/_emulator/calls").status_code == 200
        resp = client.get("/v2/unknown?x=1")
        assert resp.status_code == 501
        assert resp.json()["error_msg"] == "not implemented by the emulator: GET /v2/unknown"


# --- CLI --------------------------------------------------------------------------------------
def test_cli_seed_calls_reset(tmp_path: Path) -> None:
    runner = CliRunner()
    state = tmp_path / "s.json"
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(DEMO_DOC))
    result = runner.invoke(emulator_cli, ["seed", str(seed), "--state", str(state)])
    assert result.exit_code == 0, result.output
    assert len(json.loads(state.read_text())["state"]["customers"]) == 29
    result = runner.invoke(emulator_cli, ["calls", "--state", str(state)])
    assert (result.exit_code, result.output) == (0, "")
    result = runner.invoke(emulator_cli, ["reset", "--state", str(state)])
    assert result.exit_code == 0
    assert json.loads(state.read_text())["state"]["customers"] == {}


def test_cli_reset_demo_is_the_shipped_seed(tmp_path: Path) -> None:
    """``reset --demo`` needs no file from the repository (an installed wheel has none)."""
    runner = CliRunner()
    from_demo, from_file = tmp_path / "demo.json", tmp_path / "file.json"
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(DEMO_DOC))
    result = runner.invoke(emulator_cli, ["reset", "--demo", "--state", str(from_demo)])
    assert result.exit_code == 0, result.output
    runner.invoke(emulator_cli, ["reset", "--seed", str(seed), "--state", str(from_file)])
    assert json.loads(from_demo.read_text())["state"] == json.loads(from_file.read_text())["state"]
    both = runner.invoke(emulator_cli, ["reset", "--demo", "--seed", str(seed)])
    assert both.exit_code == 2
    assert "give either --seed FILE or --demo" in both.output


def test_cli_calls_lists_the_log(tmp_path: Path) -> None:
    from reconciler.emulator import Emulator

    state = tmp_path / "s.json"
    emu = Emulator(state_file=state, seed=DEMO_DOC)
    Api(emu).post(SUB, {})
    Api(emu).get("/nope")
    result = CliRunner().invoke(
        emulator_cli, ["calls", "--state", str(state), "--operation", "list_sub_customers"]
    )
    assert result.exit_code == 0
    assert result.output.count("\n") == 1
    assert "list_sub_customers POST /v2/partners/sub-customers/query -> 200" in result.output
    as_json = CliRunner().invoke(emulator_cli, ["calls", "--state", str(state), "--json"])
    assert [json.loads(line)["status"] for line in as_json.output.splitlines()] == [200, 501]


def test_cli_default_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(tmp_path / "dir"))
    result = CliRunner().invoke(emulator_cli, ["reset"])
    assert result.exit_code == 0
    assert (tmp_path / "dir" / "emulator-state.json").exists()


def test_cli_bad_seed_is_one_line_and_exit_1(tmp_path: Path) -> None:
    seed = tmp_path / "bad.yaml"
    seed.write_text("customers:\n  - {account_name: a}\n")
    result = CliRunner().invoke(
        emulator_cli, ["seed", str(seed), "--state", str(tmp_path / "s.json")]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {seed}: customers[0].customer_id: required"
    assert "Traceback" not in result.output


def test_cli_serve_with_a_bad_seed_exits_1(tmp_path: Path) -> None:
    seed = tmp_path / "bad.yaml"
    seed.write_text("[")
    result = CliRunner().invoke(
        emulator_cli,
        ["serve", "--seed", str(seed), "--state", str(tmp_path / "s.json"), "--port", "0"],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {seed}: not valid YAML or JSON")
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_serve_port_in_use_exits_1(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            emulator_cli, ["serve", "--port", str(port), "--state", str(tmp_path / "s.json")]
        )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "Address already in use" in result.stderr


def test_cli_serve_needs_ak_and_sk_together(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        emulator_cli, ["serve", "--ak", "X", "--state", str(tmp_path / "s.json")]
    )
    assert result.exit_code == 2


@pytest.mark.skipif(stamp_arrivals(socket.socket()) is None, reason="kernel stamps: Linux only")
def test_arrivals_are_stamped_when_the_bytes_reached_the_machine() -> None:
    # The second request arrives while the connection's thread is still sleeping the first
    # one's latency (0.4 s): a thread's stamp would say it arrived when the thread got to it,
    # the kernel's says when it came (what the rate window at the server is counted on).
    srv = make_server("127.0.0.1", 0, seed=DEMO_DOC, latency=LatencyModel.constant(0.4))
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        host, port = "127.0.0.1", int(srv.server_address[1])
        request = f"GET /v2/partners/issued-coupon-quotas HTTP/1.1\r\nHost: {host}\r\n\r\n"
        with socket.create_connection((host, port)) as sock:
            sent = []
            for _ in range(2):
                sent.append(time.monotonic())
                sock.sendall(request.encode())
                time.sleep(0.1)
            deadline = time.monotonic() + 10
            calls: list[dict[str, Any]] = []
            while len(calls) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
                calls = httpx.get(f"{srv.url}/_emulator/calls").json()["calls"]
        arrived = [float(c["arrived"]) for c in calls if c.get("arrived") is not None]
        assert len(arrived) == 2
        assert all(0 <= a - s < 0.05 for a, s in zip(arrived, sent, strict=True))
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)
