"""Bad responder input is refused with a message naming the option, before anything is contacted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from offboarding_dev.cli import main as cli_main
from offboarding_dev.rehearsal import AnswerPolicy, Responder
from offboarding_dev.rehearsal.command import parse_overrides, parse_sandbox_urls, parse_users

API = "http://127.0.0.1:9"  # nothing listens: these checks must fail before any request


def test_users_come_from_the_option_and_the_file(tmp_path: Path) -> None:
    users_file = tmp_path / "passwords.json"
    users_file.write_text(json.dumps({"admin": "a1", "hr": "h1"}))
    assert parse_users("hr:h2,approver:p:w", str(users_file)) == {
        "admin": "a1",
        "hr": "h2",
        "approver": "p:w",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hr", "--users: 'hr' must be written user:password"),
        ("hr:", "--users: 'hr' must be written user:password"),
        (":pw", "must be written user:password"),
        ("", "--users: give user:password"),
    ],
)
def test_bad_users_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="--users") as err:
        parse_users(text, None)
    assert message in str(err.value)


@pytest.mark.parametrize("content", ["not json", '["admin"]', '{"admin": 1}', '{"": "x"}'])
def test_a_bad_users_file_is_refused_without_quoting_it(tmp_path: Path, content: str) -> None:
    users_file = tmp_path / "passwords.json"
    users_file.write_text(content)
    with pytest.raises(ValueError, match="--users-file") as err:
        parse_users(None, str(users_file))
    assert str(users_file) in str(err.value)
    assert content not in str(err.value)


def test_sandbox_urls_per_connection_and_default() -> None:
    assert parse_sandbox_urls(["http://127.0.0.1:8900", "wecom_company=http://127.0.0.1:8901"]) == {
        "*": "http://127.0.0.1:8900",
        "wecom_company": "http://127.0.0.1:8901",
    }
    with pytest.raises(ValueError, match="--sandbox-url: 'wecom_company=ftp://x'"):
        parse_sandbox_urls(["wecom_company=ftp://x"])
    with pytest.raises(ValueError, match="--sandbox-url"):
        parse_sandbox_urls(["127.0.0.1:8900"])


def test_overrides_name_run_task_and_option() -> None:
    assert parse_overrides(["offboard-lisi:approve_deletion=Reject", "*:stop_social_insurance=Done"]) == {
        "offboard-lisi": {"approve_deletion": "Reject"},
        "*": {"stop_social_insurance": "Done"},
    }
    assert parse_overrides(["manual__2026:01:x:approve_deletion=Reject"]) == {
        "manual__2026:01:x": {"approve_deletion": "Reject"}
    }
    for bad in ("approve_deletion=Reject", "offboard-lisi:approve_deletion", "offboard-lisi:=Reject", "r:t="):
        with pytest.raises(ValueError, match="--override"):
            parse_overrides([bad])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"users": {}}, "users: give at least one"),
        ({"users": {"hr": ""}}, "users: user 'hr' needs a non-empty password"),
        ({"settle_seconds": -1}, "settle_seconds: must be a number of seconds >= 0"),
        ({"settle_seconds": True}, "settle_seconds"),
        ({"reader": "nobody"}, "reader: 'nobody' is not one of the users"),
        ({"api_url": "127.0.0.1:8080"}, "api_url: must be the http(s) URL"),
        ({"sandboxes": {"wecom_default": "127.0.0.1:8900"}}, "sandboxes[wecom_default]"),
        ({"overrides": {"r": "Reject"}}, "overrides[r]"),
        ({"overrides": {}, "policy": AnswerPolicy()}, "overrides: give them to the AnswerPolicy"),
    ],
)
def test_a_bad_responder_is_refused_naming_the_argument(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"api_url": API, "users": {"admin": "pw"}} | kwargs
    with pytest.raises(ValueError) as err:
        Responder(args.pop("api_url"), args.pop("users"), **args)
    assert message in str(err.value)


def test_the_responder_repr_shows_no_password() -> None:
    responder = Responder(API, {"admin": "s3cret-pw", "hr": "other-pw"})
    assert "s3cret-pw" not in repr(responder) and "other-pw" not in repr(responder)
    assert responder.reader == "admin"
    assert Responder(API, {"hr": "pw"}).reader == "hr"


def test_the_cli_refuses_bad_input_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["rehearse-responder", "--users", "admin:pw"]) == 2
    assert "--api-url: required" in capsys.readouterr().err
    assert cli_main(["rehearse-responder", "--api-url", API]) == 2
    assert "--users: give user:password" in capsys.readouterr().err
    code = cli_main(["rehearse-responder", "--api-url", API, "--users", "admin:pw", "--poll-seconds", "0"])
    assert code == 2
    assert "--poll-seconds: must be > 0" in capsys.readouterr().err


def test_the_cli_lists_the_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli_main(["--help"])
    out = capsys.readouterr().out
    assert "rehearse-responder" in out
