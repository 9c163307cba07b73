"""The duration policy: the shipped file, validation, the deployment override, step durations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from offboarding.policy import PolicyError, StepDuration, get_policy, load_policy, reload_policy

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "include" / "policy.yaml"


def _override(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "override.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_policy_holds_the_agreed_figures() -> None:
    policy = load_policy(SHIPPED)
    assert policy.account_deregistration.review_working_days == 2
    assert policy.account_deregistration.cooling_off_days == 15
    assert policy.account_deregistration.cooling_off == dt.timedelta(days=15)
    assert dict(policy.company_deregistration.notice_days) == {"general": 45, "simplified": 20}
    assert policy.handover.customer_takeover == dt.timedelta(hours=24)
    assert policy.handover.transfer_result_poll_interval == dt.timedelta(minutes=60)
    assert policy.exmail.recycle_window_days == 30
    assert policy.legal_representative.change_registration_days == 30
    assert policy.backup.retention_days == 1095
    assert policy.alerts.reminder_interval == dt.timedelta(hours=24)
    assert policy.alerts.escalate_after_reminders == 3
    assert policy.alerts.default_step_duration.due(
        dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)
    ) == dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)
    assert policy.alerts.legal_wait_grace == dt.timedelta(hours=1)
    assert policy.alerts.case_deadline("person") == dt.timedelta(days=60)
    assert policy.alerts.case_deadline("company") == dt.timedelta(days=180)
    assert policy.task_retries.retries == 3
    assert policy.task_retries.first_delay == dt.timedelta(seconds=30)
    assert policy.task_retries.max_delay == dt.timedelta(minutes=10)
    assert policy.expected_duration("stop_social_insurance") == StepDuration(5, "working_days")
    assert policy.expected_duration("register_legal_representative_change") == StepDuration(30, "days")
    assert policy.sources == (str(SHIPPED),)


def test_every_human_step_of_the_brief_has_an_expected_duration() -> None:
    policy = load_policy(SHIPPED)
    for step_id in (
        "approve_deletion",
        "stop_social_insurance",
        "seal_housing_fund",
        "issue_termination_record",
        "hand_over_tax_role",
        "register_legal_representative_change",
        "confirm_procedure_eligibility",
        "confirm_tax_deregistration",
        "confirm_social_insurance_closed",
        "record_notice_publication",
        "record_creditor_objections",
        "close_wecom_enterprise",
        "record_submission",
        "confirm_review_outcome",
        "confirm_deregistration_outcome",
    ):
        assert policy.expected_duration(step_id).amount > 0


def test_an_unknown_step_id_lists_the_known_ones() -> None:
    with pytest.raises(KeyError) as caught:
        load_policy(SHIPPED).expected_duration("pay_the_bills")
    message = caught.value.args[0]
    assert "no expected duration for human step 'pay_the_bills'" in message
    assert "approve_deletion" in message and "stop_social_insurance" in message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "account_deregistration: {cooling_off_days: -3}",
            "policy key account_deregistration.cooling_off_days must be a positive integer, got -3",
        ),
        (
            "account_deregistration: {review_working_days: two}",
            "policy key account_deregistration.review_working_days must be a positive integer, got 'two'",
        ),
        (
            "handover: {customer_takeover_hours: true}",
            "policy key handover.customer_takeover_hours must be a positive integer, got True",
        ),
        ("backup: {retention_days: 0}", "policy key backup.retention_days must be a positive integer, got 0"),
        (
            "backup: {retention_dayz: 10}",
            "policy key backup.retention_dayz is not known; known keys: retention_days",
        ),
        ("notices: {general: 45}", "policy key notices is not known; known sections:"),
        (
            "company_deregistration: {notice_days: {express: 5}}",
            "policy key company_deregistration.notice_days.express is not a procedure",
        ),
        (
            "human_steps: {seal_housing_fund: {weeks: 1}}",
            "policy key human_steps.seal_housing_fund must have exactly one of working_days, days, hours",
        ),
        (
            "human_steps: {seal_housing_fund: {working_days: 2.5}}",
            "policy key human_steps.seal_housing_fund.working_days must be a positive integer, got 2.5",
        ),
    ],
)
def test_a_bad_value_names_its_key_path(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(SHIPPED, override=_override(tmp_path, text))
    assert str(caught.value).startswith(message)


def test_the_override_is_deep_merged_and_replaces_a_step_whole(tmp_path: Path) -> None:
    override = _override(
        tmp_path,
        "handover: {customer_takeover_hours: 48}\n"
        "human_steps:\n  stop_social_insurance: {days: 7}\n  extra_review: {hours: 4}\n",
    )
    policy = load_policy(SHIPPED, override=override)
    assert policy.handover.customer_takeover_hours == 48
    assert policy.handover.transfer_result_poll_minutes == 60  # kept from the base file
    assert policy.expected_duration("stop_social_insurance") == StepDuration(7, "days")
    assert policy.expected_duration("extra_review") == StepDuration(4, "hours")
    assert policy.expected_duration("seal_housing_fund") == StepDuration(5, "working_days")
    assert policy.sources == (str(SHIPPED), str(override))


def test_get_policy_honours_the_environment_override(
    include_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert get_policy().account_deregistration.cooling_off_days == 15
    monkeypatch.setenv(
        "OFFBOARDING_POLICY_FILE", str(_override(tmp_path, "account_deregistration: {cooling_off_days: 20}"))
    )
    assert get_policy().account_deregistration.cooling_off_days == 20
    assert get_policy() is get_policy()  # cached


def test_get_policy_reads_the_include_folder(include_copy: Path) -> None:
    text = (
        (include_copy / "policy.yaml")
        .read_text(encoding="utf-8")
        .replace("retention_days: 1095", "retention_days: 730")
    )
    (include_copy / "policy.yaml").write_text(text, encoding="utf-8")
    reload_policy()
    assert get_policy().backup.retention_days == 730


def test_a_missing_override_file_is_named(include_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARDING_POLICY_FILE", "/nonexistent/policy-override.yaml")
    with pytest.raises(
        PolicyError, match=r"^OFFBOARDING_POLICY_FILE=/nonexistent/policy-override.yaml does not exist"
    ):
        get_policy()


def test_invalid_yaml_is_reported_with_the_file(tmp_path: Path) -> None:
    broken = _override(tmp_path, "handover: [unclosed")
    with pytest.raises(PolicyError, match="is not valid YAML"):
        load_policy(SHIPPED, override=broken)


@pytest.mark.parametrize(
    ("duration", "start", "due"),
    [
        # 2025-10-01 00:30 local; the 1st working day after is Thu 10/9; due 24:00 that day.
        (StepDuration(1, "working_days"), "2025-09-30T16:30:00Z", "2025-10-10T00:00:00+08:00"),
        # Thu 2026-02-12: Fri 2/13, make-up Sat 2/14, then the break to 2/23, Tue 2/24, Wed 2/25.
        (StepDuration(4, "working_days"), "2026-02-12T09:00:00+08:00", "2026-02-26T00:00:00+08:00"),
        (StepDuration(30, "days"), "2026-02-13T10:00:00+08:00", "2026-03-15T10:00:00+08:00"),
        (StepDuration(24, "hours"), "2026-02-13T20:00:00Z", "2026-02-15T04:00:00+08:00"),
    ],
)
def test_step_duration_due(duration: StepDuration, start: str, due: str) -> None:
    assert duration.due(dt.datetime.fromisoformat(start)).isoformat() == due


def test_step_duration_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match=r"^start must be timezone-aware \(got a naive datetime\)"):
        StepDuration(2, "working_days").due(dt.datetime(2026, 1, 5, 9, 0))


def test_step_duration_describe() -> None:
    assert StepDuration(1, "working_days").describe() == "1 working day"
    assert StepDuration(30, "days").describe() == "30 days"
    assert StepDuration(24, "hours").describe() == "24 hours"
