"""Trust boundaries of a case's backup, as the tasks see them: only the deployment's storage roots, no
plaintext when encryption is required, and every valid userid (``@``, ``..``) gets a case that runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding.backup import generate_key
from offboarding.backup.errors import BackupError
from offboarding.operators.backup import SnapshotProfileOperator
from offboarding.operators.base import Case
from offboarding.operators.preflight import CheckCaseOperator


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _preflight(params: dict[str, Any], make_context: Any, run_id: str = "offboard-lisi") -> Any:
    return CheckCaseOperator(task_id="check_case").execute(
        make_context(params, task_id="preflight.check_case", run_id=run_id)
    )


@pytest.mark.parametrize(
    "target",
    [
        "/tmp/elsewhere",
        "../../opt/airflow/plugins",
        "ftp://anywhere.example/drop",
        "s3://another-bucket/x",
        "file:///opt/airflow/plugins",
        "unknown",
    ],
)
def test_preflight_refuses_a_backup_target_outside_the_roots_with_nothing_written(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, tmp_path: Path, target: str
) -> None:
    params = sample_person_case(backup_target=target)
    with pytest.raises(AirflowFailException, match="backup_target") as caught:
        _preflight(params, make_context)
    assert "'test'" in str(caught.value)  # the names this deployment allows
    assert _files(tmp_path) == []
    assert wecom_conn.control.stats()["writes"] == []


def test_the_store_refuses_an_unknown_root_again_in_every_task(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, tmp_path: Path
) -> None:
    """A task other than preflight (e.g. preflight marked success by hand) still writes nothing."""
    params = sample_person_case(backup_target="/tmp/elsewhere")
    with pytest.raises(AirflowFailException, match="backup_target: '/tmp/elsewhere' is not a storage root"):
        SnapshotProfileOperator(task_id="snapshot_profile_and_memberships").execute(
            make_context(params, task_id="backup.snapshot_profile_and_memberships")
        )
    assert _files(tmp_path) == []


def test_a_named_root_receives_the_case(
    wecom_conn: Any,
    sample_person_case: Any,
    make_context: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "OFFBOARDING_BACKUP_ROOTS", f"test={tmp_path / 'backups'};archive={tmp_path / 'archive'}"
    )
    result = _preflight(sample_person_case(backup_target="archive"), make_context)
    assert result["backup_root"] == str(tmp_path / "archive")
    assert (tmp_path / "archive" / "offboard-lisi" / "case.json").is_file()
    assert not (tmp_path / "backups").exists()


def test_an_empty_backup_target_is_the_default_root(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, tmp_path: Path
) -> None:
    _preflight(sample_person_case(backup_target=""), make_context)
    assert (tmp_path / "data" / "cases" / "offboard-lisi" / "case.json").is_file()


@pytest.mark.parametrize(
    ("userid", "case_id"), [("zhang.san@corp", "offboard-zhang.san~corp"), ("a..b", "offboard-a.+.b")]
)
def test_a_userid_with_at_or_double_dots_opens_its_case(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, tmp_path: Path, userid: str, case_id: str
) -> None:
    """Regression: the form accepted these userids but the backup store refused their case id."""
    params = sample_person_case(userid=userid)
    result = _preflight(params, make_context, run_id=case_id)
    assert result["case_id"] == case_id
    claimed = json.loads((tmp_path / "backups" / case_id / "case.json").read_text())
    assert claimed == {"case_id": case_id, "run_id": case_id, "kind": "person"}
    assert (tmp_path / "backups" / case_id / "evidence").is_dir()


# -- encryption at rest ------------------------------------------------------------------------------


def _case(params: dict[str, Any], make_context: Any) -> Case:
    return Case.from_context(make_context(params))  # type: ignore[arg-type]


def test_required_encryption_without_a_key_connection_fails_before_anything_is_written(
    wecom_conn: Any,
    sample_person_case: Any,
    make_context: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OFFBOARDING_REQUIRE_ENCRYPTION", "1")
    monkeypatch.delenv("AIRFLOW_CONN_OFFBOARDING_BACKUP_KEY", raising=False)
    with pytest.raises(AirflowFailException, match=r"encryption at rest is required.*offboarding_backup_key"):
        SnapshotProfileOperator(task_id="snapshot_profile_and_memberships").execute(
            make_context(sample_person_case(), task_id="backup.snapshot_profile_and_memberships")
        )
    with pytest.raises(AirflowFailException, match="encryption at rest is required"):
        _preflight(sample_person_case(), make_context)
    assert _files(tmp_path) == []


@pytest.mark.parametrize("required", ["0", "1"])
def test_a_key_that_is_not_a_key_fails_even_when_encryption_is_optional(
    wecom_conn: Any,
    sample_person_case: Any,
    make_context: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    required: str,
) -> None:
    monkeypatch.setenv("OFFBOARDING_REQUIRE_ENCRYPTION", required)
    monkeypatch.setenv(
        "AIRFLOW_CONN_OFFBOARDING_BACKUP_KEY", json.dumps({"conn_type": "generic", "password": "not-a-key"})
    )
    with pytest.raises(AirflowFailException, match="does not hold a backup key"):
        _preflight(sample_person_case(), make_context)
    assert _files(tmp_path) == []


def test_an_unreadable_key_is_an_error_never_plaintext(
    sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only "connection not defined" means no key; a secrets backend that fails is not "no key"."""
    from airflow.sdk import BaseHook

    def broken(conn_id: str) -> Any:
        raise ConnectionError("vault unreachable")

    monkeypatch.setattr(BaseHook, "get_connection", staticmethod(broken))
    with pytest.raises(BackupError, match="cannot read the backup encryption key"):
        _ = _case(sample_person_case(), make_context).store


def test_without_the_requirement_a_missing_key_connection_means_plaintext(
    sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OFFBOARDING_REQUIRE_ENCRYPTION", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_OFFBOARDING_BACKUP_KEY", raising=False)
    assert _case(sample_person_case(), make_context).store.encrypted is False


def test_required_encryption_with_a_key_encrypts(
    sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFBOARDING_REQUIRE_ENCRYPTION", "true")
    monkeypatch.setenv(
        "AIRFLOW_CONN_OFFBOARDING_BACKUP_KEY",
        json.dumps({"conn_type": "generic", "password": generate_key()}),
    )
    assert _case(sample_person_case(), make_context).store.encrypted is True


def test_a_misspelt_requirement_fails_closed(
    sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFBOARDING_REQUIRE_ENCRYPTION", "ture")
    with pytest.raises(BackupError, match="OFFBOARDING_REQUIRE_ENCRYPTION must be 1 or 0"):
        _ = _case(sample_person_case(), make_context).store
