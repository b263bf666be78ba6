# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# (the [tool.mypy] "tests.*" override, until tests/ is a package: see docs/client.md)
"""Secrets stay hidden; credentials load from the environment or a private profile file."""

from __future__ import annotations

import copy
import logging
import pickle
import sys
import traceback
from pathlib import Path

import pytest

from reconciler.bss import Credentials, Secret, load_credentials
from reconciler.bss.credentials import ENV_AK, ENV_DOMAIN_ID, ENV_FILE, ENV_PROFILE, ENV_SK
from reconciler.bss.redact import get_logger, scrub
from reconciler.errors import ConfigError

CANARY_AK = "CANARYAKZZZZ11112222"
CANARY_SK = "canarySecretKeyXXXXXXXXXXXXXXXXXXXXXX9999"
CANARY_TOKEN = "canaryTokenYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY"


def test_secret_never_prints():
    secret = Secret(CANARY_SK)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret:>50}", format(secret)):
        assert CANARY_SK not in text
    assert secret.reveal() == CANARY_SK
    assert secret == Secret(CANARY_SK)
    assert copy.deepcopy(secret) is secret
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(secret)


def test_credentials_repr_masks_everything_secret():
    creds = Credentials(
        ak=CANARY_AK,
        sk=Secret(CANARY_SK),
        domain_id="d1",
        security_token=Secret(CANARY_TOKEN),
        expires_at=10.0,
    )
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert CANARY_AK not in text
        assert CANARY_SK not in text
        assert CANARY_TOKEN not in text
    assert "CANA…2222" in repr(creds)
    assert creds.temporary
    with pytest.raises(TypeError):
        pickle.dumps(creds)


def test_plain_string_secret_is_wrapped():
    creds = Credentials(ak="AK1234567890", sk=CANARY_SK)  # type: ignore[arg-type]
    assert isinstance(creds.sk, Secret)


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({ENV_AK: "AK"}, f"{ENV_SK} is not set"),
        ({ENV_SK: "SK"}, f"{ENV_AK} is not set"),
        ({}, f"Set {ENV_AK} and {ENV_SK}"),
    ],
    ids=["ak-only", "sk-only", "nothing"],
)
def test_missing_or_partial_env(env, fragment, tmp_path):
    env = {**env, ENV_FILE: str(tmp_path / "absent.yaml")}
    with pytest.raises(ConfigError, match=fragment):
        load_credentials(environ=env)


def test_env_credentials(tmp_path):
    env = {ENV_AK: CANARY_AK, ENV_SK: CANARY_SK, ENV_DOMAIN_ID: "dom-1"}
    creds = load_credentials(environ=env)
    assert (creds.ak, creds.sk.reveal(), creds.domain_id) == (CANARY_AK, CANARY_SK, "dom-1")


def _profile_file(tmp_path: Path, mode: int = 0o600) -> Path:
    path = tmp_path / "credentials.yaml"
    path.write_text(
        "profiles:\n"
        "  default: {ak: AKDEFAULT0001, sk: skdefault}\n"
        f"  prod: {{ak: {CANARY_AK}, sk: {CANARY_SK}, domain_id: dom-prod}}\n"
    )
    path.chmod(mode)
    return path


def test_profile_file(tmp_path):
    path = _profile_file(tmp_path)
    env = {ENV_FILE: str(path)}
    assert load_credentials(environ=env).ak == "AKDEFAULT0001"
    prod = load_credentials("prod", environ=env)
    assert (prod.ak, prod.sk.reveal(), prod.domain_id) == (CANARY_AK, CANARY_SK, "dom-prod")
    assert load_credentials(environ={**env, ENV_PROFILE: "prod"}).ak == CANARY_AK


def test_explicit_profile_wins_over_env(tmp_path):
    path = _profile_file(tmp_path)
    env = {ENV_FILE: str(path), ENV_AK: "ENVAK0000001", ENV_SK: "envsk"}
    assert load_credentials(environ=env).ak == "ENVAK0000001"
    assert load_credentials("prod", environ=env).ak == CANARY_AK


def test_unknown_profile_lists_the_known_ones(tmp_path):
    env = {ENV_FILE: str(_profile_file(tmp_path))}
    with pytest.raises(ConfigError, match=r"'staging' not found .*default, prod"):
        load_credentials("staging", environ=env)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_profile_file_readable_by_others_is_refused(tmp_path, mode):
    path = _profile_file(tmp_path, mode)
    with pytest.raises(ConfigError, match=f"chmod 600 {path}") as info:
        load_credentials("prod", environ={ENV_FILE: str(path)})
    assert CANARY_SK not in str(info.value)


def test_malformed_profile_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("profiles: [a, b]\n")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="profiles"):
        load_credentials(environ={ENV_FILE: str(path)})
    path.write_text("profiles:\n  default: {ak: A}\n")
    with pytest.raises(ConfigError, match="'ak' and 'sk'"):
        load_credentials(environ={ENV_FILE: str(path)})


def test_log_filter_scrubs_messages_args_and_tracebacks(caplog):
    creds = Credentials(ak=CANARY_AK, sk=Secret(CANARY_SK), security_token=Secret(CANARY_TOKEN))
    log = get_logger("reconciler.bss.test_canary")
    with caplog.at_level(logging.DEBUG, logger="reconciler"):
        log.info("raw sk %s token %s ak %s", creds.sk.reveal(), CANARY_TOKEN, creds.ak)
        log.info("headers {'Authorization': 'SDK-HMAC-SHA256 Access=X, Signature=abc'}")
        log.info("X-Auth-Token: tok123 and x-security-token=tok456")
        try:
            raise RuntimeError(f"boom with {CANARY_SK}")
        except RuntimeError:
            log.exception("failed")
    text = "\n".join(
        [r.getMessage() for r in caplog.records] + [caplog.text]
        + [r.exc_text or "" for r in caplog.records]
    )  # fmt: skip
    for canary in (CANARY_AK, CANARY_SK, CANARY_TOKEN, "Signature=abc", "tok123", "tok456"):
        assert canary not in text
    assert "CANA…2222" in text
    assert "boom with ***" in text


def test_scrub_many_secrets_uses_window_scan():
    secrets = [Secret(f"manysecret{i:06d}xyz") for i in range(50)]
    text = "a manysecret000007xyz b manysecret000049xyz c"
    assert scrub(text) == "a *** b *** c"
    assert secrets  # keep them alive while scrubbing


def test_secret_gone_after_collection():
    value = "ephemeralSecretValue123"
    secret = Secret(value)
    assert scrub(value) == "***"
    del secret
    assert scrub(value) == value


def test_traceback_of_config_error_has_no_secret(tmp_path):
    path = _profile_file(tmp_path, 0o644)
    try:
        load_credentials("prod", environ={ENV_FILE: str(path)})
    except ConfigError as exc:
        formatted = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    assert CANARY_SK not in formatted
