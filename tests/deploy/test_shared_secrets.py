"""deploy/shared_secrets.py, run as the airflow-init service runs it: a real process on real files, and a
real Airflow process reading the result."""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "shared_secrets.py"
USERS = "admin:admin,hr:user,legal_rep:user,approver:user"


@pytest.fixture
def deployment(tmp_path: Path) -> dict[str, str]:
    """A clean environment like the compose one, with the config volume in a temp folder."""
    config = tmp_path / "config"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(tmp_path / "airflow-home"),
        "AIRFLOW_CONFIG": str(config / "airflow.cfg"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(config / "passwords.json"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": USERS,
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def secrets_in(env: dict[str, str]) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(env["AIRFLOW_CONFIG"])
    return {
        "fernet_key": parser.get("core", "fernet_key"),
        "jwt_secret": parser.get("api_auth", "jwt_secret"),
        "secret_key": parser.get("api", "secret_key"),
    }


def passwords_in(env: dict[str, str]) -> dict[str, str]:
    return json.loads(Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text())


def assert_not_revealed(result: subprocess.CompletedProcess[str], values: list[str]) -> None:
    output = result.stdout + result.stderr
    for value in values:
        assert value not in output, "a secret appeared in the script's output"


def test_ensure_creates_every_shared_secret_and_password_privately(deployment: dict[str, str]) -> None:
    result = run(deployment, "ensure")
    assert result.returncode == 0, result.stderr
    values = secrets_in(deployment)
    Fernet(values["fernet_key"].encode())  # a valid Fernet key, or this raises
    assert len(values["jwt_secret"]) >= 64 and len(values["secret_key"]) >= 64
    assert len(set(values.values())) == 3
    passwords = passwords_in(deployment)
    assert set(passwords) == {"admin", "hr", "legal_rep", "approver"}
    assert len(set(passwords.values())) == 4 and all(len(p) >= 16 for p in passwords.values())
    for key in ("AIRFLOW_CONFIG", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"):
        assert stat.S_IMODE(Path(deployment[key]).stat().st_mode) == 0o600, key
    assert_not_revealed(result, [*values.values(), *passwords.values()])
    assert "fernet_key" in result.stdout and "admin" in result.stdout  # it says WHAT it created


def test_ensure_again_keeps_every_value(deployment: dict[str, str]) -> None:
    assert run(deployment, "ensure").returncode == 0
    config_before = Path(deployment["AIRFLOW_CONFIG"]).read_bytes()
    passwords_before = passwords_in(deployment)
    result = run(deployment, "ensure")
    assert result.returncode == 0, result.stderr
    assert Path(deployment["AIRFLOW_CONFIG"]).read_bytes() == config_before
    assert passwords_in(deployment) == passwords_before
    assert "created none" in result.stdout


def test_a_new_user_gets_a_password_and_nobody_else_changes(deployment: dict[str, str]) -> None:
    assert run(deployment, "ensure").returncode == 0
    before = passwords_in(deployment)
    deployment["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = USERS + ",auditor:viewer"
    assert run(deployment, "ensure").returncode == 0
    after = passwords_in(deployment)
    assert set(after) - set(before) == {"auditor"}
    assert {k: after[k] for k in before} == before


def test_an_existing_airflow_config_keeps_its_other_settings(deployment: dict[str, str]) -> None:
    config = Path(deployment["AIRFLOW_CONFIG"])
    config.parent.mkdir(parents=True)
    config.write_text(
        textwrap.dedent("""\
            [core]
            fernet_key =
            parallelism = 64

            [logging]
            log_format = [%%(asctime)s] %%(message)s
            """)
    )
    assert run(deployment, "ensure").returncode == 0
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(config)
    assert parser.get("core", "parallelism") == "64"
    assert parser.get("logging", "log_format") == "[%%(asctime)s] %%(message)s"
    assert parser.get("core", "fernet_key")


@pytest.mark.parametrize("variable", ["AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET_CMD"])
def test_an_environment_override_is_refused_before_anything_is_written(
    deployment: dict[str, str], variable: str
) -> None:
    deployment[variable] = "something"
    result = run(deployment, "ensure")
    assert result.returncode == 2
    assert variable in result.stderr
    assert not Path(deployment["AIRFLOW_CONFIG"]).exists()
    assert not Path(deployment["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).exists()


@pytest.mark.parametrize(
    ("users", "complaint"),
    [
        ("admin:admin,hr:boss", "unknown role 'boss'"),
        ("admin", "must look like 'name:role'"),
        ("admin:admin,admin:user", "listed twice"),
        ("", "no users configured"),
    ],
)
def test_bad_user_list_is_refused_naming_the_setting(
    deployment: dict[str, str], users: str, complaint: str
) -> None:
    deployment["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = users
    result = run(deployment, "ensure")
    assert result.returncode == 2
    assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS" in result.stderr and complaint in result.stderr
    assert not Path(deployment["AIRFLOW_CONFIG"]).exists()


def test_broken_passwords_file_is_reported_and_left_alone(deployment: dict[str, str]) -> None:
    passwords = Path(deployment["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    passwords.parent.mkdir(parents=True)
    passwords.write_text("{not json")
    result = run(deployment, "ensure")
    assert result.returncode == 2
    assert str(passwords) in result.stderr and "not valid JSON" in result.stderr
    assert passwords.read_text() == "{not json"
    assert not Path(deployment["AIRFLOW_CONFIG"]).exists()


def test_missing_config_location_is_named(deployment: dict[str, str]) -> None:
    del deployment["AIRFLOW_CONFIG"]
    result = run(deployment, "ensure")
    assert result.returncode == 2 and "AIRFLOW_CONFIG is not set" in result.stderr


def test_rotating_jwt_secret_changes_only_that_secret(deployment: dict[str, str]) -> None:
    assert run(deployment, "ensure").returncode == 0
    before = secrets_in(deployment)
    result = run(deployment, "rotate", "jwt_secret")
    assert result.returncode == 0, result.stderr
    after = secrets_in(deployment)
    assert after["jwt_secret"] != before["jwt_secret"]
    assert {k: after[k] for k in ("fernet_key", "secret_key")} == {
        k: before[k] for k in ("fernet_key", "secret_key")
    }
    assert_not_revealed(result, [*before.values(), *after.values()])


def test_new_password_replaces_one_users_password(deployment: dict[str, str]) -> None:
    assert run(deployment, "ensure").returncode == 0
    before = passwords_in(deployment)
    assert run(deployment, "new-password", "hr").returncode == 0
    after = passwords_in(deployment)
    assert after["hr"] != before["hr"]
    assert {k: v for k, v in after.items() if k != "hr"} == {k: v for k, v in before.items() if k != "hr"}
    unknown = run(deployment, "new-password", "mallory")
    assert unknown.returncode == 2 and "mallory" in unknown.stderr


AIRFLOW_READS_IT = textwrap.dedent("""\
    import hashlib, json, sys
    from airflow.configuration import conf
    from airflow.models.crypto import get_fernet
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    def digest(value):
        return hashlib.sha256(value.encode()).hexdigest()

    fernet = get_fernet()
    print(json.dumps({
        "fernet_key": digest(conf.get("core", "fernet_key")),
        "jwt_secret": digest(conf.get("api_auth", "jwt_secret")),
        "secret_key": digest(conf.get("api", "secret_key")),
        "old_token": fernet.decrypt(sys.argv[1].encode()).decode(),
        "new_token": fernet.encrypt(b"written after rotation").decode(),
        "users": sorted(SimpleAuthManager.get_passwords()),
    }))
    """)


def test_airflow_reads_the_file_and_fernet_rotation_keeps_old_data_readable(
    deployment: dict[str, str],
) -> None:
    assert run(deployment, "ensure").returncode == 0
    old_key = secrets_in(deployment)["fernet_key"]
    old_token = Fernet(old_key.encode()).encrypt(b"connection password stored before rotation").decode()

    assert run(deployment, "rotate", "fernet_key").returncode == 0
    rotated = secrets_in(deployment)
    new_key, kept_key = rotated["fernet_key"].split(",")
    assert kept_key == old_key and new_key != old_key
    config_before = Path(deployment["AIRFLOW_CONFIG"]).read_bytes()

    # A real Airflow process configured like every compose service: AIRFLOW_CONFIG and nothing else.
    airflow = subprocess.run(
        [sys.executable, "-c", AIRFLOW_READS_IT, old_token],
        env=deployment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert airflow.returncode == 0, airflow.stderr[-2000:]
    seen = json.loads(airflow.stdout.strip().splitlines()[-1])
    for name, value in rotated.items():
        assert seen[name] == hashlib.sha256(value.encode()).hexdigest(), f"Airflow read another {name}"
    assert seen["old_token"] == "connection password stored before rotation"
    assert Fernet(new_key.encode()).decrypt(seen["new_token"].encode()) == b"written after rotation"
    assert seen["users"] == sorted(passwords_in(deployment))
    assert Path(deployment["AIRFLOW_CONFIG"]).read_bytes() == config_before, "Airflow rewrote the file"

    result = run(deployment, "retire-old-fernet-keys")
    assert result.returncode == 0 and "removed 1" in result.stdout
    assert secrets_in(deployment)["fernet_key"] == new_key
