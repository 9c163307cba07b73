"""The cases page serves a case's evidence report only from the deployment's local roots, sandboxed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import HTTPException

from offboarding.cases_page.reports import REPORT_HEADERS, pdf_report_response, report_response

CASE = "offboard-lisi"


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "archive"
    monkeypatch.setenv("OFFBOARDING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OFFBOARDING_BACKUP_ROOTS", f"archive={root};oss=s3://corp-offboarding/backups")
    return root


def _write_report(root: Path, case_id: str = CASE, html: str = "<h1>report</h1>") -> Path:
    path = root / case_id / "evidence" / "report.html"
    path.parent.mkdir(parents=True)
    path.write_text(html, encoding="utf-8")
    return path


def test_a_report_in_a_declared_local_root_is_served_sandboxed(archive: Path) -> None:
    _write_report(archive, html="<h1>李四</h1><script>alert(1)</script>")
    response = report_response(CASE, {"backup_target": "archive"})
    assert response.status_code == 200
    assert response.body.decode() == "<h1>李四</h1><script>alert(1)</script>"
    csp = response.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "allow-" not in csp and "default-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"].startswith("text/html")
    assert REPORT_HEADERS["X-Content-Type-Options"] == "nosniff"


def test_the_default_root_serves_too(archive: Path, tmp_path: Path) -> None:
    _write_report(tmp_path / "data" / "cases")
    assert report_response(CASE, {"backup_target": ""}).status_code == 200
    assert report_response(CASE, {}).status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "/etc",  # a run naming a path (e.g. created before the roots existed, or by a tampered conf)
        "file:///etc",
        "ftp://attacker.example/x",
        "s3://another-bucket/x",
        "http://169.254.169.254/latest",
        "unknown",
    ],
)
def test_a_run_naming_anything_else_is_not_served_and_nothing_is_opened(
    archive: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fsspec

    def no_connection(*args: object, **kwargs: object) -> None:
        raise AssertionError("the page opened a storage connection")

    monkeypatch.setattr(fsspec.core, "url_to_fs", no_connection)
    _write_report(archive)
    with pytest.raises(HTTPException) as caught:
        report_response(CASE, {"backup_target": target})
    assert caught.value.status_code == 404
    assert "is not a storage root of this deployment" in str(caught.value.detail)


def test_an_object_storage_root_is_pointed_to_not_opened(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fsspec

    monkeypatch.setattr(
        fsspec.core, "url_to_fs", lambda *a, **k: (_ for _ in ()).throw(AssertionError("opened"))
    )
    with pytest.raises(HTTPException) as caught:
        report_response(CASE, {"backup_target": "oss"})
    assert caught.value.status_code == 404
    assert "s3://corp-offboarding/backups/offboard-lisi/" in str(caught.value.detail)


def test_a_report_symlinked_out_of_the_case_is_not_served(archive: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.html"
    secret.write_text("secret")
    (archive / CASE / "evidence").mkdir(parents=True)
    (archive / CASE / "evidence" / "report.html").symlink_to(secret)
    with pytest.raises(HTTPException) as caught:
        report_response(CASE, {"backup_target": "archive"})
    assert caught.value.status_code == 404 and "outside its case folder" in str(caught.value.detail)


@pytest.mark.parametrize("case_id", ["../../etc", "a/b", ""])
def test_a_case_id_that_is_no_case_folder_is_not_served(archive: Path, case_id: str) -> None:
    with pytest.raises(HTTPException) as caught:
        report_response(case_id, {"backup_target": "archive"})
    assert caught.value.status_code == 404


def test_no_report_yet_says_when_it_comes(archive: Path) -> None:
    with pytest.raises(HTTPException) as caught:
        report_response(CASE, {"backup_target": "archive"})
    assert "written when the case closes" in str(caught.value.detail)


def test_the_pdf_report_is_served_from_the_same_root_with_the_same_headers(archive: Path) -> None:
    path = archive / CASE / "evidence" / "report.pdf"
    path.parent.mkdir(parents=True)
    path.write_bytes("%PDF-1.7 report of 李四".encode())
    response = pdf_report_response(CASE, {"backup_target": "archive"})
    assert response.status_code == 200
    assert response.body == "%PDF-1.7 report of 李四".encode()
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-security-policy"] == REPORT_HEADERS["Content-Security-Policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == f'inline; filename="{CASE}-evidence-report.pdf"'


def test_the_pdf_report_follows_the_html_report_rules(archive: Path, tmp_path: Path) -> None:
    with pytest.raises(HTTPException) as caught:
        pdf_report_response(CASE, {"backup_target": "/etc"})
    assert (
        caught.value.status_code == 404 and "is not a storage root of this deployment" in caught.value.detail
    )
    with pytest.raises(HTTPException) as caught:
        pdf_report_response(CASE, {"backup_target": "oss"})
    assert "s3://corp-offboarding/backups/offboard-lisi/" in caught.value.detail
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF secret")
    (archive / CASE / "evidence").mkdir(parents=True)
    (archive / CASE / "evidence" / "report.pdf").symlink_to(secret)
    with pytest.raises(HTTPException) as caught:
        pdf_report_response(CASE, {"backup_target": "archive"})
    assert "outside its case folder" in caught.value.detail
    (archive / CASE / "evidence" / "report.pdf").unlink()
    with pytest.raises(HTTPException) as caught:
        pdf_report_response(CASE, {"backup_target": "archive"})
    assert "offboarding evidence report <case folder> --pdf" in caught.value.detail
