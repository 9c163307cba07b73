"""What every offboarding task stands on: the case it works for.

A *case* is one DAG run: one departing person (``offboard_employee``), one dissolving company
(``dissolve_company``) or one list of persons leaving together (``offboard_layoff``). Its id is derived
from the trigger form (``offboard-<userid>``, ``dissolve-<credit code>``, ``layoff-<list id>``) and is
also the run id when triggered by REST, CLI or bulk, so a case is never run twice. Its backup and evidence live under ``<root>/<case_id>/``, ``<root>`` being the
deployment's storage root named by the form's ``backup_target`` (:mod:`offboarding.backup.roots`).

Evidence: every entry of the case's ledger is authenticated with the deployment's evidence key (the
Airflow Connection ``offboarding_evidence_key``, password = the key; required, a task that has to record
evidence without it fails saying how to create it). After each task, the ledger's head (``seq:hash``) is
recorded in Airflow's metadata as the XCom ``evidence_anchor``; a task that decides on the evidence
(:meth:`Case.verified_chain`) checks the ledger against every anchor of its upstream tasks, so a
ledger cut short or rewritten in the case folder is detected.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding import settings

if TYPE_CHECKING:  # storage and ledger are used when a task runs, not when a DAG file is parsed
    from offboarding.backup.storage import BackupStore
    from offboarding.cases.typed import CompanyCase, Form, LayoffCase, PersonCase
    from offboarding.evidence.keys import EvidenceKey
    from offboarding.evidence.ledger import Anchor, ChainReport, EvidenceLedger
    from offboarding.hooks.wecom import WeComHook
    from offboarding.timescale import TimeScale

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Case:
    """The case a task instance works for, built from the run's params.

    ``form`` is the trigger form parsed once (:mod:`offboarding.cases.typed`): a frozen
    ``PersonCase`` or ``CompanyCase`` under the form's own names (``case.person.userid``,
    ``case.company.credit_code``). ``conf`` is the raw form, for the steps not yet reading ``form``.
    """

    case_id: str
    kind: str  # "person" | "company" | "layoff"
    conf: Mapping[str, Any]
    run_id: str
    triggered_by: str | None
    anchor_source: Callable[[], list[Anchor]] | None = field(default=None, compare=False, repr=False)

    @property
    def dry_run(self) -> bool:
        return bool(self.conf.get("dry_run"))

    @cached_property
    def form(self) -> Form:
        """The trigger form, validated and typed (InvalidCase naming every bad field otherwise).

        A task's params are the form plus its own (a human step's evidence fields), so fields the form
        does not know are left out here; ``check_case`` refuses them in the run's form itself.
        """
        from offboarding.cases.typed import PARSERS

        return PARSERS[self.kind](self.conf, allow_unknown=True)

    @property
    def person(self) -> PersonCase:
        """The person form of an ``offboard_employee`` case (TypeError for a company case)."""
        from offboarding.cases.typed import PersonCase

        form = self.form
        if not isinstance(form, PersonCase):
            raise TypeError(f"case {self.case_id} is a {self.kind} case, not a person case")
        return form

    @property
    def company(self) -> CompanyCase:
        """The company form of a ``dissolve_company`` case (TypeError for a person case)."""
        from offboarding.cases.typed import CompanyCase

        form = self.form
        if not isinstance(form, CompanyCase):
            raise TypeError(f"case {self.case_id} is a {self.kind} case, not a company case")
        return form

    @property
    def layoff(self) -> LayoffCase:
        """The list form of an ``offboard_layoff`` case (TypeError for another kind)."""
        from offboarding.cases.typed import LayoffCase

        form = self.form
        if not isinstance(form, LayoffCase):
            raise TypeError(f"case {self.case_id} is a {self.kind} case, not a layoff case")
        return form

    @property
    def time_scale(self) -> TimeScale:
        """The form's ``time_scale`` (ValueError naming it when it is not a number >= 1)."""
        from offboarding.timescale import TimeScale

        return TimeScale.parse(self.conf.get("time_scale"))

    @property
    def wecom_conn_id(self) -> str:
        return str(self.conf.get("wecom_conn_id") or "wecom_default")

    @property
    def backup_root(self) -> str:
        """Where the case's backup root is: the deployment's root named by ``backup_target``.

        Raises BackupLocationError (the task fails without retries) when the deployment declares no
        root of that name; see :mod:`offboarding.backup.roots`.
        """
        from offboarding.backup.roots import resolve_backup_root

        return resolve_backup_root(self.conf.get("backup_target") or "").url

    @cached_property
    def store(self) -> BackupStore:
        from offboarding.backup.storage import BackupStore

        root = self.backup_root  # an unknown backup_target fails here, before any key is read
        return BackupStore(root, encryption_key=_backup_key())

    @cached_property
    def ledger(self) -> EvidenceLedger:
        from offboarding.evidence.ledger import EvidenceLedger

        return EvidenceLedger(self.store, self.case_id, key=self.ledger_key)

    @cached_property
    def ledger_key(self) -> EvidenceKey:
        """The deployment's evidence key (from its Airflow Connection; the task fails without it)."""
        return _evidence_key()

    def recorded_anchors(self) -> list[Anchor]:
        """Every ledger head recorded in Airflow's metadata by this task's upstream tasks (lowest first)."""
        return self.anchor_source() if self.anchor_source is not None else []

    def verified_chain(self, *, step: str | None = None) -> ChainReport:
        """The ledger checked as a decision needs it: a torn last line recovered first (recorded as
        ``ledger.recovered``), every HMAC checked with the deployment's key, and the chain compared
        with the anchor recorded in Airflow's metadata."""
        self.ledger.recover(step=step)
        return self.ledger.verify_chain(anchors=self.recorded_anchors())

    @classmethod
    def from_context(cls, context: Context) -> Case:
        from offboarding.cases.case_ids import case_id_for_run, case_kind

        conf = dict(context["params"])
        kind = case_kind(conf)
        dag_run = context["dag_run"]
        case_id = case_id_for_run(conf, dag_run.run_id)
        if case_id != dag_run.run_id:  # started from the UI form: the id check_case assigned, if any
            case_id = assigned_case_id(context) or case_id
        return cls(
            case_id=case_id,
            kind=kind,
            conf=conf,
            run_id=dag_run.run_id,
            triggered_by=getattr(dag_run, "triggering_user_name", None),
            anchor_source=partial(upstream_anchors, context),
        )


CHECK_CASE_TASK_ID = "preflight.check_case"


def assigned_case_id(context: Context) -> str | None:
    """The case id ``preflight.check_case`` assigned to a run started from the UI form (its XCom), if any."""
    ti = context.get("ti")
    if ti is None or getattr(ti, "task_id", None) == CHECK_CASE_TASK_ID:
        return None
    try:
        checked = ti.xcom_pull(task_ids=CHECK_CASE_TASK_ID)
    except Exception:  # no XCom backend in a unit test's bare context
        return None
    value = checked.get("case_id") if isinstance(checked, Mapping) else None
    return value if isinstance(value, str) and value else None


def require_intact_evidence(case: Case, refused: str, *, step: str | None = None) -> ChainReport:
    """The verified ledger (see :meth:`Case.verified_chain`); AirflowFailException ``refused: why`` if broken.

    What every irreversible step checks first: an auditor could not trust a broken ledger's record of
    the backup and the approval.
    """
    from offboarding.evidence.ledger import LedgerError

    try:
        chain = case.verified_chain(step=step)
    except LedgerError as err:
        raise AirflowFailException(f"{refused}: {err}") from None
    if not chain.ok:
        raise AirflowFailException(
            f"{refused}: the evidence ledger {case.ledger.location} is {chain.summary_text()}; an auditor "
            "could not trust what it says about the backup and the approval"
        )
    return chain


def upstream_anchors(context: Context) -> list[Anchor]:
    """Every ledger head (XCom ``evidence_anchor``) recorded by the task's upstream tasks, lowest first."""
    from offboarding.evidence.ledger import ANCHOR_XCOM_KEY, Anchor

    ti, task = context.get("ti"), context.get("task")
    if ti is None or task is None or not task.has_dag():
        return []
    upstream = sorted(task.get_flat_relative_ids(upstream=True))
    if not upstream:
        return []
    try:
        values = ti.xcom_pull(task_ids=upstream, key=ANCHOR_XCOM_KEY)
    except TypeError:  # a test's in-memory task instance pulls one task at a time
        values = [ti.xcom_pull(task_ids=task_id, key=ANCHOR_XCOM_KEY) for task_id in upstream]
    if isinstance(values, str):
        values = [values]
    return Anchor.all_of(values or [])


def record_anchor(case: Case, context: Context) -> str | None:
    """Record the ledger's head in Airflow's metadata (XCom ``evidence_anchor``); returns it.

    Read without the key (the head is public: seq and hash). Never fails the task: a ledger that
    cannot be read is reported by the verification of the next deciding step.
    """
    from offboarding.evidence.ledger import ANCHOR_XCOM_KEY, EvidenceLedger, LedgerError

    ti = context.get("ti")
    if ti is None:
        return None
    try:
        head = EvidenceLedger(case.store, case.case_id).head()
    except (LedgerError, OSError, ValueError) as err:
        log.warning("the evidence ledger's head could not be read to anchor it: %s", err)
        return None
    except Exception as err:  # e.g. a backup_target refused: the task's own error says it already
        log.warning("the evidence ledger's head could not be read to anchor it (%s)", type(err).__name__)
        return None
    if head is None or not hasattr(ti, "xcom_push"):
        return None
    try:
        ti.xcom_push(key=ANCHOR_XCOM_KEY, value=head.text)
    except Exception as err:  # the next task anchors a later head; never hide the task's own outcome
        log.warning("the evidence anchor %s could not be recorded in XCom: %s", head.text, err)
        return None
    return head.text


def _evidence_key() -> EvidenceKey:
    """The deployment's evidence key from its Airflow Connection; the task fails without it.

    The key's text never appears in the error (nor anywhere else): only the connection's name.
    """
    from airflow.sdk import BaseHook

    from offboarding.evidence.keys import EvidenceKey, EvidenceKeyError

    conn_id = settings.evidence_key_conn_id()
    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception:
        conn = None
    if conn is None or not conn.password:
        raise AirflowFailException(
            f"no evidence key: create the Airflow Connection {conn_id!r} (any type) whose password is the "
            "key, e.g. from `offboarding evidence generate-key`, and keep a copy for the auditors; no "
            "evidence is recorded without it (every ledger entry is authenticated with it)"
        )
    try:
        return EvidenceKey.from_text(conn.password, source=f"the password of connection {conn_id!r}")
    except EvidenceKeyError as err:
        raise AirflowFailException(str(err)) from None


def _backup_key() -> bytes | None:
    """The backup encryption key from its Airflow Connection, if the deployment configured one.

    Only a connection that is not defined means "no key" (plaintext), and only when the deployment does
    not require encryption (``OFFBOARDING_REQUIRE_ENCRYPTION``). A key that cannot be read or is not a
    key fails the task: a backup is never written in plaintext because a secrets backend hiccupped.
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    from offboarding.backup.encryption import key_from_text
    from offboarding.backup.errors import BackupConfigError, BackupError

    conn_id = settings.backup_key_conn_id()
    try:
        required = settings.encryption_required()
    except ValueError as err:
        raise BackupConfigError(str(err)) from None
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        if required:
            raise BackupConfigError(
                f"encryption at rest is required ({settings.REQUIRE_ENCRYPTION_ENV}=1) but the Airflow "
                f"connection {conn_id!r} holding the backup key is not defined; create it (password = the "
                "key made by offboarding.backup.encryption.generate_key()) and clear this task"
            ) from None
        return None
    except Exception as err:
        raise BackupError(
            f"cannot read the backup encryption key from the Airflow connection {conn_id!r} "
            f"({type(err).__name__}); nothing was written. Check the secrets backend; the task is retried"
        ) from None
    if not conn.password:
        if required:
            raise BackupConfigError(
                f"encryption at rest is required ({settings.REQUIRE_ENCRYPTION_ENV}=1) but the Airflow "
                f"connection {conn_id!r} has no password (the key); set it and clear this task"
            )
        return None
    try:
        return key_from_text(conn.password)
    except (TypeError, ValueError) as err:
        raise BackupConfigError(
            f"the Airflow connection {conn_id!r} does not hold a backup key: {err}; nothing was written"
        ) from None


@contextlib.contextmanager
def config_errors_fail_the_task() -> Iterator[None]:
    """Turn a WeCom configuration error into a failure without retries, keeping its actionable message.

    Retrying cannot fix a wrong secret, a missing trusted IP or a too narrow visible range, a
    ``backup_target`` the deployment does not declare, a required backup key that is missing or an invalid
    trigger form: the
    person running the deployment must change the connection, the settings or the WeCom admin settings
    first (or the case be triggered again).
    """
    from offboarding.backup.errors import BackupConfigError
    from offboarding.cases.typed import InvalidCase
    from offboarding.wecom.errors import WeComConfigError

    try:
        yield
    except (WeComConfigError, BackupConfigError, InvalidCase) as err:
        raise AirflowFailException(str(err)) from None


def with_retry_defaults(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The policy's retries (``task_retries``) for a task that does not set its own.

    Every offboarding step is safe to re-run (it reads WeCom and the ledger before it acts), so a
    lost worker or an unreachable WeCom costs a retry, not the case. Failures a retry cannot fix
    raise ``AirflowFailException`` and skip the retries.
    """
    from offboarding.policy import get_policy

    retry = get_policy().task_retries
    kwargs.setdefault("retries", retry.retries)
    kwargs.setdefault("retry_delay", retry.first_delay)
    kwargs.setdefault("retry_exponential_backoff", True)
    kwargs.setdefault("max_retry_delay", retry.max_delay)
    return kwargs


class CaseOperator(BaseOperator):
    """Base for offboarding tasks: gives ``run(case, context)`` the case and a WeCom hook.

    Retried per the policy's ``task_retries`` unless the task sets its own retries.
    """

    ui_color = "#e8f4ea"

    # No __init__ of its own: Airflow deep-copies the DAG's params once per ``__init__`` in an operator's
    # class hierarchy when the DAG file is parsed, so every level costs each of the DAG's tasks a copy of
    # the whole trigger form. The retry defaults go in through the hook Airflow's ``apply_defaults``
    # calls with the constructor's keyword arguments (as its own decorated operators do).
    def _hook_apply_defaults(self, *args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return args, with_retry_defaults(kwargs)

    def execute(self, context: Context) -> Any:
        case = Case.from_context(context)
        self._case = case
        try:
            with config_errors_fail_the_task():  # a wrong secret or IP allow-list: retrying cannot help
                result = self.run(case, context)
            if case.dry_run and "hook" in self.__dict__:
                planned = self.hook.planned_calls()
                if planned:
                    self.log.info("dry run: %d WeCom write call(s) planned, none sent", len(planned))
                    self.record("dry_run.planned", request={"calls": planned})
        finally:
            record_anchor(case, context)  # also after a failure: what it recorded stays anchored
        return result

    def run(self, case: Case, context: Context) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def resume_after_hold(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the case's legal hold ended: the step runs again from the start
        (:func:`offboarding.operators.hold.require_not_held` deferred it)."""
        from offboarding.operators.hold import resume_after_hold

        return resume_after_hold(self, context, event)

    @cached_property
    def hook(self) -> WeComHook:
        from offboarding.hooks.wecom import WeComHook

        case = self._case
        return WeComHook(case.wecom_conn_id, dry_run=case.dry_run)

    def record(
        self,
        action: str,
        *,
        request: Mapping[str, Any] | None = None,
        result: Any = None,
        actor: str | None = None,
        key: str | None = None,
    ) -> None:
        """Append one entry to the case's evidence ledger (``key``: what ``has_action`` matches on)."""
        self._case.ledger.append(
            action,
            actor=actor or f"airflow:{self.task_id}",
            step=self.task_id,
            request=dict(request or {}),
            result=result,
            key=key,
        )
