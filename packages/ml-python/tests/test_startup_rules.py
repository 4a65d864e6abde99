"""The service refuses to start open to the network, or with a token it cannot use."""

import logging
import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from tokenflow_ml.app import create_app
from tokenflow_ml.settings import Settings, is_loopback

TOKEN = "s3cret-token-for-tests-0123456789"


def run_service(**env: str) -> subprocess.CompletedProcess:
    """`python -m tokenflow_ml` with only these ML_* settings; it must exit on its own.

    ML_PORT stays valid: pydantic skips the cross-field rule when a field is invalid.
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ML_")}
    return subprocess.run(
        [sys.executable, "-m", "tokenflow_ml"],
        env={**clean, "ML_PORT": "1", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_refuses_to_start_on_a_public_interface_without_a_token():
    result = run_service(ML_HOST="0.0.0.0")

    assert result.returncode == 78
    assert "ML_HOST is '0.0.0.0', which is not a loopback address" in result.stderr
    assert "ML_SERVICE_TOKEN" in result.stderr
    assert "ML_ALLOW_NO_AUTH=1" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_refuses_a_short_token_without_echoing_it():
    short = "only-15-chars!!"

    result = run_service(ML_SERVICE_TOKEN=short)

    assert result.returncode == 78
    assert "ML_SERVICE_TOKEN: must be 16 to 1024 characters long" in result.stderr
    assert short not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.3.2.1", "localhost", "LOCALHOST", "::1", "[::1]", " 127.0.0.1 "]
)
def test_loopback_addresses_are_recognised(host):
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "ml.internal", "localhost.example", ""]
)
def test_other_addresses_count_as_reachable_from_outside(host):
    assert not is_loopback(host)


def test_a_public_interface_is_allowed_with_a_token():
    settings = Settings(host="0.0.0.0", service_token=TOKEN)

    assert settings.service_token.get_secret_value() == TOKEN


def test_a_public_interface_without_a_token_is_a_validation_error_naming_both_variables():
    with pytest.raises(ValidationError) as raised:
        Settings(host="0.0.0.0", service_token=None)

    assert "ML_HOST" in str(raised.value) and "ML_SERVICE_TOKEN" in str(raised.value)


def test_ml_allow_no_auth_starts_open_with_a_warning(caplog):
    caplog.set_level(logging.WARNING)

    create_app(Settings(host="0.0.0.0", service_token=None, allow_no_auth=True))

    assert "serving on 0.0.0.0 without ML_SERVICE_TOKEN (ML_ALLOW_NO_AUTH is set)" in caplog.text


def test_loopback_without_a_token_starts_quietly(caplog):
    caplog.set_level(logging.WARNING)

    create_app(Settings(host="127.0.0.1", service_token=None))

    assert "ML_SERVICE_TOKEN" not in caplog.text


def test_an_empty_token_means_no_token():
    assert Settings(service_token="").service_token is None


@pytest.mark.parametrize("token", ["has a space in it-0123", "tab\there-0123456789", "é" * 16])
def test_a_token_that_cannot_travel_in_a_header_is_refused(token):
    with pytest.raises(ValidationError, match="visible ASCII") as raised:
        Settings(service_token=token)

    assert token not in str(raised.value)
