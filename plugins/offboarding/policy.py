"""The duration policy: every business and legal duration the product waits for, in one file.

``include/policy.yaml`` holds the figures (WeCom's review and cooling-off, notice periods, the
customer takeover, retention, alert cadence, the expected duration of every human step). A
deployment can change some of them without forking the file: point ``OFFBOARDING_POLICY_FILE`` at
an override file; it is deep-merged over ``include/policy.yaml`` (a human step's entry is replaced
as a whole, so ``{days: 7}`` can replace ``{working_days: 5}``).

Code never carries these figures as literals: it asks ``get_policy()``.

The policy is :mod:`offboarding.legal_time`'s caller: legal time counts with the periods it is given,
and this module gives it the deployment's (:func:`review_due`, :func:`cooling_off_end`,
:func:`notice_end`) and the deployment's PRC calendar (:func:`deployment_calendar`: the ``holidays``
package plus ``include/calendar/cn_overrides.yaml``), which it also registers as legal time's default
calendar when imported, so ``offboarding.legal_time.is_working_day(day)`` in a DAG sees the overrides too.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

import pendulum
import yaml

from offboarding.legal_time import calendar as _calendar
from offboarding.legal_time import deadlines as _deadlines
from offboarding.legal_time.clock import end_of_local_day, later, local_date, require_aware

log = logging.getLogger(__name__)

POLICY_FILE_ENV = "OFFBOARDING_POLICY_FILE"
NOTICE_PROCEDURES = ("general", "simplified")
DurationUnit = Literal["working_days", "days", "hours"]
DURATION_UNITS: tuple[DurationUnit, ...] = ("working_days", "days", "hours")
# The DAG files read the policy while they are parsed: libyaml's parser is ten times faster, same documents.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PolicyError(ValueError):
    """A policy file is missing, unreadable or holds a bad value; the message names the key path."""


# The policy's values are NamedTuples, not frozen dataclasses: the DAG processor imports this module at
# every parse, where a frozen dataclass costs ~0.4 ms to build (Python 3.11 compiles six methods for
# it) and a NamedTuple ~0.05 ms (`make bench --only parse_cost`). The same holds for the few other
# value types the DAG files need (calendar years, backup roots, evidence fields).
class StepDuration(NamedTuple):
    """How long a step is expected to take: a number of PRC working days, calendar days or hours."""

    amount: int
    unit: DurationUnit

    def due(self, start: dt.datetime) -> pendulum.DateTime:
        """When a step started at ``start`` is due, in Asia/Shanghai.

        Working days: 24:00 local of the ``amount``-th working day after the local start date.
        Calendar days and hours: ``start`` plus the duration.
        """
        begin = require_aware(start, "start")
        if self.unit == "working_days":
            day = deployment_calendar().nth_working_day_after(local_date(begin), self.amount)
            return end_of_local_day(day)
        delta = dt.timedelta(days=self.amount) if self.unit == "days" else dt.timedelta(hours=self.amount)
        return later(begin, delta)

    def describe(self) -> str:
        """``"2 working days"``, ``"30 days"``, ``"24 hours"``."""
        words = {"working_days": "working day", "days": "day", "hours": "hour"}[self.unit]
        return f"{self.amount} {words}{'' if self.amount == 1 else 's'}"


class AccountDeregistration(NamedTuple):
    """WeCom's in-app account deregistration (注销账号): review, then cooling-off."""

    review_working_days: int
    cooling_off_days: int

    @property
    def cooling_off(self) -> dt.timedelta:
        return dt.timedelta(days=self.cooling_off_days)

    def review_due(self, submitted_at: dt.datetime) -> pendulum.DateTime:
        """:func:`offboarding.legal_time.review_due` with this policy's working days and calendar."""
        return _deadlines.review_due(
            submitted_at, working_days=self.review_working_days, calendar=deployment_calendar()
        )

    def cooling_off_end(self, submitted_at: dt.datetime) -> pendulum.DateTime:
        """:func:`offboarding.legal_time.cooling_off_end` with this policy's cooling-off days."""
        return _deadlines.cooling_off_end(submitted_at, days=self.cooling_off_days)


class CompanyDeregistration(NamedTuple):
    """Company deregistration: the creditor / public notice period per procedure, in calendar days."""

    notice_days: Mapping[str, int]

    def notice_end(self, published_on: dt.date, procedure: str) -> pendulum.DateTime:
        """:func:`offboarding.legal_time.notice_end` with this policy's notice days and calendar."""
        return _deadlines.notice_end(
            published_on, procedure, notice_days=self.notice_days, calendar=deployment_calendar()
        )


class LegalRepresentative(NamedTuple):
    """Change of legal representative (法定代表人变更): registration deadline after the decision."""

    change_registration_days: int


class Handover(NamedTuple):
    """Customer handover: WeCom's automatic takeover delay and how often we poll transfer results."""

    customer_takeover_hours: int
    transfer_result_poll_minutes: int

    @property
    def customer_takeover(self) -> dt.timedelta:
        return dt.timedelta(hours=self.customer_takeover_hours)

    @property
    def transfer_result_poll_interval(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.transfer_result_poll_minutes)


class Exmail(NamedTuple):
    """Tencent Exmail (企业邮箱): how long a deleted mailbox can still be recovered."""

    recycle_window_days: int


class Backup(NamedTuple):
    """How long a case's backup and evidence are kept."""

    retention_days: int

    @property
    def retention(self) -> dt.timedelta:
        return dt.timedelta(days=self.retention_days)


class Alerts(NamedTuple):
    """Stalled-step alerts: remind every so often, escalate after so many reminders."""

    reminder_interval_hours: int
    escalate_after_reminders: int
    default_step_hours: int
    legal_wait_grace_hours: int
    person_case_days: int
    company_case_days: int

    @property
    def reminder_interval(self) -> dt.timedelta:
        return dt.timedelta(hours=self.reminder_interval_hours)

    @property
    def default_step_duration(self) -> StepDuration:
        """How long a step without a ``human_steps`` entry (an automatic task) may take."""
        return StepDuration(self.default_step_hours, "hours")

    def case_deadline(self, kind: str) -> dt.timedelta:
        """How long a whole case (``person`` or ``company``) may stay open before its Deadline Alert."""
        days = {"person": self.person_case_days, "company": self.company_case_days}
        if kind not in days:
            raise ValueError(f"kind must be one of {sorted(days)}, got {kind!r}")
        return dt.timedelta(days=days[kind])

    @property
    def legal_wait_grace(self) -> dt.timedelta:
        """How long after its legal deadline a wait may still be waiting before it counts as stalled."""
        return dt.timedelta(hours=self.legal_wait_grace_hours)


class TaskRetries(NamedTuple):
    """How an automatic task is retried after a failure a retry can fix (a lost worker, WeCom down)."""

    retries: int
    first_delay_seconds: int
    max_delay_minutes: int

    @property
    def first_delay(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.first_delay_seconds)

    @property
    def max_delay(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.max_delay_minutes)


class Approvals(NamedTuple):
    """Fallback of the deployment's lists (the Airflow Variables ``offboarding_approvers`` and
    ``offboarding_hr_owners`` win): Airflow user names; empty means not declared here."""

    approvers: tuple[str, ...] = ()
    hr_owners: tuple[str, ...] = ()
    #: Deployment defaults of the trigger form (an HR export may leave them out; the form overrides them).
    default_approvers: tuple[str, ...] = ()
    default_hr_owner: str | None = None


class Policy(NamedTuple):
    """The whole duration policy, validated. Obtain it with :func:`get_policy` or :func:`load_policy`."""

    account_deregistration: AccountDeregistration
    company_deregistration: CompanyDeregistration
    legal_representative: LegalRepresentative
    handover: Handover
    exmail: Exmail
    backup: Backup
    alerts: Alerts
    task_retries: TaskRetries
    human_steps: Mapping[str, StepDuration]
    sources: tuple[str, ...] = ()
    approvals: Approvals = Approvals()

    def expected_duration(self, step_id: str) -> StepDuration:
        """The expected duration of a human step; KeyError listing the known step ids if unknown."""
        try:
            return self.human_steps[step_id]
        except KeyError:
            known = ", ".join(sorted(self.human_steps))
            raise KeyError(
                f"no expected duration for human step {step_id!r} in the policy "
                f"(human_steps in {', '.join(self.sources) or 'policy.yaml'}); known step ids: {known}"
            ) from None


# --------------------------------------------------------------------------------------------------
# Reading and validating


class _Reader:
    """Walks the merged document, checking keys and values and naming the key path on error."""

    def __init__(self, document: Mapping[str, Any], sources: tuple[str, ...]) -> None:
        self.document = document
        self.sources = sources

    def fail(self, message: str) -> PolicyError:
        return PolicyError(f"{message} (policy files: {', '.join(self.sources)})")

    def section(self, name: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
        value = self.document.get(name)
        if not isinstance(value, Mapping):
            raise self.fail(f"policy key {name} must be a mapping with keys {', '.join(keys)}, got {value!r}")
        unknown = sorted(str(k) for k in value if k not in keys)
        if unknown:
            raise self.fail(f"policy key {name}.{unknown[0]} is not known; known keys: {', '.join(keys)}")
        return value

    def positive_int(self, mapping: Mapping[str, Any], key: str, path: str) -> int:
        if key not in mapping:
            raise self.fail(f"policy key {path} is missing; it must be a positive integer")
        value = mapping[key]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(f"policy key {path} must be a positive integer, got {value!r}")
        return value

    def fields(self, name: str, keys: tuple[str, ...]) -> dict[str, int]:
        mapping = self.section(name, keys)
        return {key: self.positive_int(mapping, key, f"{name}.{key}") for key in keys}


def _read_policy(document: Mapping[str, Any], sources: tuple[str, ...]) -> Policy:
    reader = _Reader(document, sources)
    sections = (
        "account_deregistration",
        "company_deregistration",
        "legal_representative",
        "handover",
        "exmail",
        "backup",
        "alerts",
        "task_retries",
        "human_steps",
        "approvals",
    )
    unknown = sorted(str(k) for k in document if k not in sections)
    if unknown:
        raise reader.fail(f"policy key {unknown[0]} is not known; known sections: {', '.join(sections)}")

    company = reader.section("company_deregistration", ("notice_days",))
    notice = company.get("notice_days")
    if not isinstance(notice, Mapping):
        raise reader.fail(
            f"policy key company_deregistration.notice_days must map {' and '.join(NOTICE_PROCEDURES)} "
            f"to days, got {notice!r}"
        )
    stray = sorted(str(k) for k in notice if k not in NOTICE_PROCEDURES)
    if stray:
        raise reader.fail(
            f"policy key company_deregistration.notice_days.{stray[0]} is not a procedure; "
            f"known procedures: {', '.join(NOTICE_PROCEDURES)}"
        )
    notice_days = {
        p: reader.positive_int(notice, p, f"company_deregistration.notice_days.{p}")
        for p in NOTICE_PROCEDURES
    }

    steps = document.get("human_steps")
    if not isinstance(steps, Mapping) or not steps:
        raise reader.fail(f"policy key human_steps must map step ids to durations, got {steps!r}")
    human_steps: dict[str, StepDuration] = {}
    for step_id, spec in steps.items():
        path = f"human_steps.{step_id}"
        if not isinstance(spec, Mapping) or len(spec) != 1 or next(iter(spec)) not in DURATION_UNITS:
            raise reader.fail(
                f"policy key {path} must have exactly one of {', '.join(DURATION_UNITS)}, got {spec!r}"
            )
        unit = next(iter(spec))
        human_steps[str(step_id)] = StepDuration(reader.positive_int(spec, unit, f"{path}.{unit}"), unit)

    return Policy(
        account_deregistration=AccountDeregistration(
            **reader.fields("account_deregistration", ("review_working_days", "cooling_off_days"))
        ),
        company_deregistration=CompanyDeregistration(MappingProxyType(notice_days)),
        legal_representative=LegalRepresentative(
            **reader.fields("legal_representative", ("change_registration_days",))
        ),
        handover=Handover(
            **reader.fields("handover", ("customer_takeover_hours", "transfer_result_poll_minutes"))
        ),
        exmail=Exmail(**reader.fields("exmail", ("recycle_window_days",))),
        backup=Backup(**reader.fields("backup", ("retention_days",))),
        alerts=Alerts(
            **reader.fields(
                "alerts",
                (
                    "reminder_interval_hours",
                    "escalate_after_reminders",
                    "default_step_hours",
                    "legal_wait_grace_hours",
                    "person_case_days",
                    "company_case_days",
                ),
            )
        ),
        task_retries=TaskRetries(
            **reader.fields("task_retries", ("retries", "first_delay_seconds", "max_delay_minutes"))
        ),
        human_steps=MappingProxyType(human_steps),
        sources=sources,
        approvals=_read_approvals(reader),
    )


def _read_approvals(reader: _Reader) -> Approvals:
    """The optional ``approvals`` section: lists of Airflow user names (empty: not declared) and the
    trigger form's deployment defaults ``default_approvers`` / ``default_hr_owner``."""
    if reader.document.get("approvals") is None:
        return Approvals()
    keys = ("approvers", "hr_owners", "default_approvers", "default_hr_owner")
    section = reader.section("approvals", keys)
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("approvers", "hr_owners", "default_approvers"):
        value = section.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise reader.fail(
                f"policy key approvals.{key} must be a list of Airflow user names, got {value!r}"
            )
        lists[key] = tuple(v.strip() for v in value)
    owner = section.get("default_hr_owner")
    if owner is not None and (not isinstance(owner, str) or not owner.strip() or " " in owner.strip()):
        raise reader.fail(
            f"policy key approvals.default_hr_owner must be an Airflow user name, got {owner!r}"
        )
    return Approvals(**lists, default_hr_owner=owner.strip() if isinstance(owner, str) else None)


def _read_yaml(path: Path, what: str) -> Mapping[str, Any]:
    if not path.is_file():
        raise PolicyError(f"{what} {path} does not exist")
    try:
        with path.open(encoding="utf-8") as handle:
            document = yaml.load(handle, Loader=_SAFE_LOADER)
    except (yaml.YAMLError, ValueError) as err:
        raise PolicyError(f"{what} {path} is not valid YAML: {err}") from None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise PolicyError(f"{what} {path} must be a mapping of sections, got {type(document).__name__}")
    return document


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any], path: str = "") -> dict[str, Any]:
    """``override`` merged over ``base``; mappings merge key by key, except a human step's entry."""
    merged = dict(base)
    for key, value in override.items():
        here = f"{path}.{key}" if path else str(key)
        replace_whole = path == "human_steps"
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping) and not replace_whole:
            merged[key] = _deep_merge(merged[key], value, here)
        else:
            merged[key] = value
    return merged


def load_policy(path: str | Path | None = None, *, override: str | Path | None = None) -> Policy:
    """Read and validate a policy file (default ``include/policy.yaml``), optionally deep-merging an override.

    Raises PolicyError naming the key path of the first bad value.
    """
    if path is None:
        from offboarding.paths import policy_file

        path = policy_file()
    base_path = Path(path)
    document: Mapping[str, Any] = _read_yaml(base_path, "policy file")
    sources = [str(base_path)]
    if override is not None:
        override_path = Path(override)
        document = _deep_merge(document, _read_yaml(override_path, "policy override file"))
        sources.append(str(override_path))
    return _read_policy(document, tuple(sources))


@lru_cache(maxsize=4)
def _cached_policy(override: str) -> Policy:
    return load_policy(override=override or None)


def get_policy() -> Policy:
    """The deployment's policy: ``include/policy.yaml`` with ``$OFFBOARDING_POLICY_FILE`` merged over it.

    Cached per process (per value of the environment variable); :func:`reload_policy` forgets it.
    """
    override = os.environ.get(POLICY_FILE_ENV, "").strip()
    if override and not Path(override).expanduser().is_file():
        raise PolicyError(
            f"{POLICY_FILE_ENV}={override} does not exist; point it at a YAML override file or unset it"
        )
    return _cached_policy(str(Path(override).expanduser()) if override else "")


def reload_policy() -> None:
    """Forget the cached policy so the files are read again on next use (after editing them)."""
    _cached_policy.cache_clear()


# --------------------------------------------------------------------------------------------------
# The deployment's legal time: legal_time's functions with this deployment's periods and calendar


def _load_deployment_calendar() -> _calendar.PrcCalendar:
    from offboarding.paths import calendar_overrides_file

    try:
        path = calendar_overrides_file()
    except FileNotFoundError as err:
        log.warning("PRC calendar runs without overrides: %s", err)
        return _calendar.PrcCalendar()
    return _calendar.PrcCalendar.from_override_file(path)


def deployment_calendar() -> _calendar.PrcCalendar:
    """The PRC calendar with the deployment's ``include/calendar/cn_overrides.yaml``, read once per process.

    It is legal time's registered default calendar (see :func:`offboarding.legal_time.set_default_calendar`);
    :func:`offboarding.legal_time.reload_calendar` makes the next call read the file again.
    """
    return _calendar.default_calendar()


def review_due(submitted_at: dt.datetime) -> pendulum.DateTime:
    """When WeCom's review of a deregistration request is due, with the deployment's policy and calendar."""
    return get_policy().account_deregistration.review_due(submitted_at)


def cooling_off_end(submitted_at: dt.datetime) -> pendulum.DateTime:
    """When the cooling-off after a deregistration request ends, with the deployment's policy."""
    return get_policy().account_deregistration.cooling_off_end(submitted_at)


def notice_end(published_on: dt.date, procedure: str) -> pendulum.DateTime:
    """When a company-deregistration notice period ends, with the deployment's policy and calendar."""
    return get_policy().company_deregistration.notice_end(published_on, procedure)


def calendar_note(day: dt.date) -> _calendar.CalendarNote:
    """``"estimated"`` or ``"official"`` for ``day`` in the deployment's calendar."""
    return deployment_calendar().calendar_note(day)


# Registered once per process: legal time reads no file of ours, the policy tells it where the overrides are.
_calendar.set_default_calendar(_load_deployment_calendar)
