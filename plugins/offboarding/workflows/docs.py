"""The ``doc_md`` texts of the tasks, written for the ops engineer who watches the run.

Each text says what the task does, what it waits for, and what to do when it stalls or fails.
Kept in one place so the DAG files stay short and the wording stays consistent.
"""

from __future__ import annotations

CHECK_CASE = """
**Check the case** — validates the trigger form again (the same schema as the form and the bulk
import), checks that rehearsal time is only used against the sandbox, and claims the case folder
`<backup_target>/<case_id>/` for this run so a case is never handled by two runs.

*If it fails*: the log names the field that is wrong. Trigger a new run with a corrected form; if the
case is claimed by another run, follow that run instead.
"""

CHECK_MEMBER = """
**Check the member and the successor** — reads both from WeCom (`user/get`): the member must exist (or
be already deleted: then the case continues with what is left), the successor must exist and be active.
Records what the seed article asks to check before deregistration (only one enterprise, not the
creator/super-admin, account in a safe state) as checklist items: WeCom has no API for them.

*If it fails*: a configuration error names the Airflow connection to fix (secret, trusted IP, visible
range). A bad successor needs a new run with another `successor_userid`.
"""

WAIT_LAST_DAY = """
**Wait for the last working day** — holds no worker slot: a deferred wait until 24:00 Asia/Shanghai of
`last_working_day`. Nothing is backed up or removed while the person still works.

*If it stalls*: it is waiting by design until the deadline shown in the log and the rendered fields.
Check that the triggerer is running (`airflow jobs check --job-type TriggererJob`).
"""

SNAPSHOT = """
**Snapshot profile and memberships** — saves the member's profile (`user/get`), departments, the
app-created tags and group chats they belong to, as JSON in the backup folder, before anything changes.

*If it fails*: a configuration error names the connection to fix; rerun (clear) the task — it only reads.
"""

EXPORT_CUSTOMERS = """
**Export customers and customer groups** — saves every external contact (客户) the member follows with
its details, and every customer group (客户群) they own with its members, as JSON files.

*If it fails*: check the customer-contact secret (客户联系) of the connection; rerun — it only reads.
"""

EXPORT_WEDRIVE = """
**Export WeDrive files** — streams every file of the WeDrive spaces named in the form
(`wedrive_space_ids`, spaces the app can reach) into the backup, computing sha256 as it goes. The
member's personal space and online docs are not reachable by the API: they are listed in the manifest
as not exported, with the reason.

*If it stalls*: large files take time (see the log's progress); WeDrive's monthly API quota (640019)
fails the task with the quota message: wait for the quota or raise it, then clear the task.
"""

VERIFY_BACKUP = """
**Verify the backup** — writes the manifest (every file with size and sha256, what could not be
exported and why, the retention date), reads every file back and checks it. Deletion is refused
later unless this verification passed.

*If it fails*: the log lists the files that are missing or differ; clear the backup group to redo it.
"""

CHOOSE_STATUTORY = """
**Choose the statutory steps** — everyone needs 社保减员, 公积金封存 and 退工登记 / 离职证明; a legal
representative or finance owner also hands over the tax role, and a legal representative registers the
change of legal representative.
"""

HUMAN_STEP = """
**Human step** — done outside WeCom by the person named in the form, who answers it in
*Browse › Required Actions* (or the REST API) with the evidence asked for. Required fields are checked;
an incomplete answer fails the try and the step asks again. Its expected duration comes from
`include/policy.yaml`; past it, the step counts as stalled and alerts go out.

*If it stalls*: remind the owner; the link in the alert opens the form.
"""

STOP_SOCIAL_INSURANCE_BODY = """
Stop the social insurance (社保减员) for this employee at the local social insurance bureau or its online
service, effective after the last working day, then record the date and the receipt number here.
"""

SEAL_HOUSING_FUND_BODY = """
Seal the employee's housing provident fund account (公积金封存) and record the date and reference.
"""

TERMINATION_RECORD_BODY = """
Register the end of employment (退工登记) and issue the certificate of leaving (离职证明); record both dates.
"""

TAX_ROLE_BODY = """
The seed article: a legal representative or finance owner must settle tax matters before their account
is deregistered. In the electronic tax bureau (电子税务局), replace this person as 办税人员 / 财务负责人 and
record when, who takes over, and the bureau's reference.
"""

LEGAL_REP_CHANGE_BODY = """
Register the change of legal representative with the market regulation authority within 30 days of the
decision, and record the registration date, the new legal representative and the reference.
"""

STATUTORY_DONE = """
**Statutory steps done** — joins the person's statutory steps; the account deregistration waits for it.
"""

HAND_OVER_CUSTOMERS = """
**Hand over customers** (在职继承) — transfers every customer the member follows to the successor in
batches of 100. Each customer has its own result: "waiting" (WeCom takes them over automatically after
24 h), or a failure with its reason (e.g. 40128: transferred too often in 90 days) which is kept for the
report and retried after deletion as 离职继承. Safe to rerun: customers already in transfer are not sent
twice.

*If it fails*: configuration errors name the secret to fix; per-customer failures do not fail the task.
"""

HAND_OVER_GROUPS = """
**Hand over customer groups** — transfers the customer groups (客户群) the member owns to the successor
(≤ 100 per call, ≤ 300 per day by WeCom's rule); failed groups are listed with their reason.
"""

LEAVE_TAGS = """
**Leave tags and group chats** — removes the member from the tags and group chats this app created
(WeCom allows no other), handing a chat to the successor when the member owns it.
"""

DISABLE_MEMBER = """
**Disable the member** — `user/update enable=0` (reversible: re-enable in the admin console), and moves
them to the leavers' department when the connection names one. The member can no longer log in.
"""

APPROVE_DELETION = """
**Approve the deletion** — the approvers named in the form see the backup verification summary and
approve or reject. Nothing irreversible happens before this. Rejecting skips the deletion and the
account deregistration; the case closes with the rejection recorded.

*If it stalls*: remind the approvers; only they can answer.
"""

DELETE_MEMBER = """
**Delete the member** — `user/delete`, only with a verified backup manifest and a recorded approval
(checked again here, whatever the DAG's edges say). Already gone (60111) counts as done. The corp's
creator cannot be deleted (301005): the task stops with what to do (transfer the creator role in the
admin console, then clear this task). If Tencent Exmail is bound, the mailbox goes too.
"""

TRANSFER_RESIGNED = """
**Transfer the resigned member's customers** (离职继承) — customers and groups that were not handed over
while the member existed are transferred to the successor now (≤ 100 per call). Per-item results kept.
"""

WAIT_TAKEOVER = """
**Wait for the customer takeover** — a deferred wait (no worker slot) that checks `transfer_result`
about once an hour until every customer is final: taken over, refused by the customer, or the
successor's customer limit reached. Refusals and limits are listed for follow-up.

*If it stalls*: WeCom takes over after 24 h; beyond a few days check the successor's customer limit.
"""

CLOSE_CASE = """
**Close the case** — writes the evidence bundle next to the backup: the hash-chained ledger of every
action and a readable report (Markdown and HTML) an auditor can read without Airflow, then notifies.
"""

CHOOSE_DEREGISTRATION = """
**Choose whether to deregister the account** — follows the form's `deregister_account`.
"""

NOT_REQUESTED = """
**Deregistration not requested** — the form did not ask to deregister the WeCom account; nothing to do.
"""

SEND_GUIDE = """
**Send the deregistration guide** — a WeCom app message (Chinese, with an English line) telling the
person how to deregister in the app (我 › 设置 › 账号与安全 › 企业微信安全中心 › 注销账号) and not to log in
during the cooling-off. Sent before the member is deleted, while they can still receive it.

*If it fails*: check the connection's `agent_id` and app secret; if WeCom reports the user as invalid,
HR forwards the guide (the text is in `include/templates/deregistration_guide.md`).
"""

RECORD_SUBMISSION_BODY = """
In the app: 我 › 设置 › 账号与安全 › 企业微信安全中心 › 注销账号 › 申请注销. Record when the request was
submitted (date, time and time zone, e.g. `2026-12-02T10:30:00+08:00`). The review and the 15-day
cooling-off are counted from it.
"""

PLAN_DEADLINES = """
**Plan the legal deadlines** — from the recorded submission: the review is expected by 24:00 of the
2nd PRC working day after it (holidays and make-up working days counted), the cooling-off ends 15
days after it (both from `include/policy.yaml`). Shown in Asia/Shanghai time in the log and XCom.
"""

REVIEW = """
**Confirm the review outcome** — the person (or HR) records whether WeCom's review passed or was
rejected (with the reason). Expected by the review due time planned above; past it the step is stalled
and alerts go out. A rejection routes to *handle_rejection*.
"""

REVIEW_BODY = """
WeCom reviews the request in 1–2 working days and tells the person in the app. Choose the outcome; for
a rejection give the reason WeCom showed.
"""

WAIT_COOLING_OFF = """
**Wait for the end of the cooling-off** — a deferred wait (no worker slot) until 15 days after the
submission. A login during this period cancels the request: the person must not log in.

*If it stalls*: it waits by design until the deadline in the log and rendered fields; check the
triggerer is running.
"""

OUTCOME = """
**Confirm the deregistration outcome** — after the cooling-off, record whether the account was
deregistered or whether a login revoked the request (with when). A revocation routes to
*handle_revocation*.
"""

OUTCOME_BODY = """
The cooling-off has ended. If the person logged in during it, the request was revoked: choose
*Revoked* and give the time of the login. Otherwise choose *Account deregistered*.
"""

HANDLE_REJECTION = """
**Handle a rejected review** — records the reason and what to do next (fix it, submit again, clear
*record_submission*). The case closes with the rejection in its report.
"""

HANDLE_REVOCATION = """
**Handle a revoked request** — a login during the cooling-off cancelled the deregistration. Records it
with the time; to resubmit, ask the person to submit again without logging in and clear
*record_submission*.
"""

VERIFY_GONE = """
**Verify the account is gone** — where WeCom allows: the member must no longer resolve (`user/get`
answers 60111). Records the read-back in the evidence ledger.
"""

DEREGISTRATION_DONE = """
**Deregistration finished** — joins every path of the deregistration (done, rejected, revoked, or not
requested).
"""
