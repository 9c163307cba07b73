"""The ``doc_md`` texts of the tasks, written for the ops engineer who watches the run.

Each text says what the task does, what it waits for, and what to do when it stalls or fails.
Kept in one place so the DAG files stay short and the wording stays consistent.
"""

from __future__ import annotations

CHECK_CASE = """
**Check the case** — validates the trigger form again (the same schema as the form and the bulk
import), checks the connections it names (`wecom_conn_id` must be of type `wecom`,
`notify.webhook_conn_id` of type `wecom_webhook`, both over https unless on loopback), checks that
rehearsal time is only used against the sandbox, and claims the case folder
`<root>/<case_id>/` (the storage root named by `backup_target`) for this run so a case is never handled by two runs.
It also refuses a second open case of the same member (naming the open one) and gives a run started
from the UI form the member's next case id (`offboard-lisi+2` after a closed or rescinded case), asking
the plugin's `/offboarding/api/cases/<id>/series` with the `offboarding_airflow_api` connection.

*If it fails*: the log names the field that is wrong. Trigger a new run with a corrected form; if the
case is claimed by another run or another case of the member is open, follow that one instead (or
rescind it). If it cannot reach the api-server it is retried.
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
**Wait for the last working day** — holds no worker slot: *up for reschedule* (parked) until a few hours
before, then *deferred*, until 24:00 Asia/Shanghai of the *effective* last working day (the form's, or the
last accepted *reschedule*). A reschedule clears this wait as it is recorded: it starts again at once with
the new date (its try number goes up by one).
Nothing is backed up or removed while the person still works.

*If it stalls*: it is waiting by design until the deadline shown in the log and the rendered fields.
Past it: up for reschedule, check the scheduler is running; deferred, the triggerer
(`airflow jobs check --job-type TriggererJob`).

*Marked success by hand?* That shortens nothing: the steps after it (the handover steps, *disable_member*,
*delete_member*) compute the deadline again from the case and refuse until it has passed. Records
`deadline.reached` in the ledger when it ends.
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
twice. Not before the end of the last working day (checked here again, whatever state the wait is in).

*If it fails*: configuration errors name the secret to fix; per-customer failures do not fail the task.
"… refused: the last working day ends …": the wait before was marked success by hand; clear
preflight.wait_for_last_working_day, let it end, then clear this task.
"""

HAND_OVER_GROUPS = """
**Hand over customer groups** — transfers the customer groups (客户群) the member owns to the successor
(≤ 100 per call, ≤ 300 per day by WeCom's rule); failed groups are listed with their reason.
Not before the end of the last working day (checked here again, whatever state the wait is in).
"""

LEAVE_TAGS = """
**Leave tags and group chats** — removes the member from the tags and group chats this app created
(WeCom allows no other), handing a chat to the successor when the member owns it.
Not before the end of the last working day (checked here again, whatever state the wait is in).
"""

DISABLE_MEMBER = """
**Disable the member** — `user/update enable=0` (reversible: re-enable in the admin console), and moves
them to the leavers' department when the connection names one. The member can no longer log in.
Not before the end of the last working day (checked here again).

*Refused with "… the last working day ends …"?* The wait before it was marked success by hand: this step
checks the legal deadline itself (from the case's form and ledger). Clear the wait
(preflight.wait_for_last_working_day) and let it end, then clear this task.
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
admin console, then clear this task). If Tencent Exmail is bound, the mailbox goes too. Not before the
end of the last working day (checked here again).

*Deferred with "… is on hold …"?* A legal hold on the case: nothing is deleted until it is released (the
case's *release* action); the task waits without a worker slot and goes on by itself after the release.
A rescinded case skips this step.

*Refused with "… the last working day ends …"?* The wait before it was marked success by hand: this step
checks the legal deadline itself (from the case's form and ledger). Clear the wait
(preflight.wait_for_last_working_day) and let it end, then clear this task.
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
action and a readable report (Markdown and HTML) an auditor can read without Airflow. The report states
whether the ledger verifies (every entry's HMAC under the evidence key, and the anchor the earlier tasks
recorded as XCom `evidence_anchor`); the task's XCom holds the report's location and sha256, not the report.

*If the ledger is BROKEN*: the report names the first bad entry; keep the case folder as it is and have an
auditor run `offboarding evidence verify <case folder> --anchor <seq:hash>` (see docs/evidence.md).
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
**Wait for the end of the cooling-off** — a legal wait (no worker slot; *up for reschedule* until its last
hours, then *deferred*) until 15 days after the submission. A login during this period cancels the request: the person must not log in.

*If it stalls*: it waits by design until the deadline in the log and rendered fields; check the
triggerer is running.

*Marked success by hand?* That shortens nothing: the steps after it (*confirm_deregistration_outcome*,
*verify_account_gone*) compute the deadline again from the case and refuse until it has passed. Records
`deadline.reached` in the ledger when it ends.
"""

OUTCOME = """
**Confirm the deregistration outcome** — after the cooling-off, record whether the account was
deregistered or whether a login revoked the request (with when). A revocation routes to
*handle_revocation*. Asked only once the cooling-off has ended (checked here again).

*Refused with "… the cooling-off ends …"?* The wait before it was marked success by hand: this step
checks the legal deadline itself (from the case's form and ledger). Clear the wait
(account_deregistration.wait_for_cooling_off_end) and let it end, then clear this task.
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
answers 60111). Records the read-back in the evidence ledger. Only after the cooling-off (checked here
again).

*Refused with "… the cooling-off ends …"?* The wait before it was marked success by hand: this step
checks the legal deadline itself (from the case's form and ledger). Clear the wait
(account_deregistration.wait_for_cooling_off_end) and let it end, then clear this task.
"""

DEREGISTRATION_DONE = """
**Deregistration finished** — joins every path of the deregistration (done, rejected, revoked, or not
requested).
"""


# -- dissolve_company -------------------------------------------------------------------------------

CHECK_COMPANY_CASE = """
**Check the case** — validates the trigger form again (company name, the unified social credit code with
its check character, the procedure, the owners, the successor and the admin who closes the enterprise),
checks that rehearsal time is only used against the sandbox, and claims `<root>/<case_id>/`
for this run so a company is never dissolved by two runs.

*If it fails*: the log names the field that is wrong. Trigger a new run with a corrected form.
"""

PROCEDURE_ELIGIBILITY = """
**Confirm the procedure** — the legal representative confirms that the company qualifies for the
procedure chosen in the form (一般注销: liquidation group filed, 45-day creditor notice; 简易注销: no
debts, or debts settled, all investors' commitment, 20-day public notice) and records the basis and
the reference. *Not eligible* stops the case with what to do.

*If it stalls*: remind the legal representative; the link in the alert opens the form.
"""

PROCEDURE_ELIGIBILITY_BODY = """
The form chose **{{ params.procedure }}** deregistration for {{ params.company_name }}
({{ params.credit_code }}).

* 简易注销 (simplified) is only open to a company without debts (or whose debts are settled), with every
  investor's signed commitment (全体投资人承诺书), no pending lawsuit, no abnormal-operation listing.
* 一般注销 (general) needs the liquidation group filed (清算组备案) and a 45-day creditor notice.

Choose *Eligible* and give the basis and the reference (承诺书 / 备案通知书 number), or *Not eligible*
with the reason.
"""

PROCEDURE_ELIGIBLE = """
**Procedure confirmed** — the company is eligible for the chosen procedure; the legal steps and the
notice start.
"""

STOP_NOT_ELIGIBLE = """
**Stop: not eligible** — the legal representative answered that the company does not qualify for the
chosen procedure. The case stops here (nothing in WeCom was changed) and the ledger records why.

*What to do*: for 简易注销, trigger the case again with `procedure` = `general`; for 一般注销, resolve
what blocks it (e.g. file the liquidation group), then trigger again.
"""

TAX_DEREGISTRATION = """
**Confirm the tax deregistration** (清税) — the legal representative or the finance owner records the
tax clearance certificate (清税证明) number and date from the tax bureau, or *Not required* with the
reason (e.g. 简易注销 with 免办清税). Runs in parallel with the social-insurance step and the notice.

*If it stalls*: tax clearance takes weeks; the expected duration is in `include/policy.yaml`.
"""

TAX_DEREGISTRATION_BODY = """
Deregister the company with the tax bureau (电子税务局 › 注销税务登记) and record the tax clearance
certificate (清税证明): its number (文书号) and its date. If no certificate is needed, choose
*Not required* and give the reason.
"""

SOCIAL_INSURANCE_CLOSED = """
**Confirm social insurance is closed** (社保注销) — the legal representative confirms that every
employee's social insurance was stopped (减员), arrears are settled, the company's social-insurance
account is closed, and gives the bureau's reference. Every confirmation must be *yes*.
"""

SOCIAL_INSURANCE_BODY = """
At the social insurance bureau (or its online service): stop the social insurance of every employee
(全员减员), settle any arrears (欠费), close the company's social-insurance account (社保注销). Confirm
each, and give the date the account was closed and the bureau's reference (业务流水号).
"""

RECORD_NOTICE = """
**Record the notice publication** — the legal representative publishes the deregistration notice on
国家企业信用信息公示系统 (GSXT) and records the publication date and its reference or URL. The notice
period is counted from this date.
"""

RECORD_NOTICE_BODY = """
Publish the notice on 国家企业信用信息公示系统 (https://www.gsxt.gov.cn): 一般注销 — the creditor notice
(债权人公告, 45 days); 简易注销 — the simplified-deregistration public notice (简易注销公告, 20 days).
Record the publication date (the day the system shows it) and the reference or the URL.
"""

PLAN_NOTICE = """
**Plan the notice period** — from the recorded publication date and the procedure: 45 days (一般注销)
or 20 days (简易注销) from `include/policy.yaml`, the publication day not counted, a last day that is not
a working day moved to the next PRC working day; the period ends at 24:00 Asia/Shanghai of the last day.
Shown in local time in the log and the XCom.

*If it fails*: the publication date is missing or not a date: clear *record_notice_publication* and
answer it again.
"""

WAIT_NOTICE_END = """
**Wait for the end of the notice period** — a legal wait (no worker slot, no 7-day sensor timeout;
*up for reschedule* until its last hours, then *deferred*) until the end planned above. Creditors may object until then.

*If it stalls*: it waits by design until the deadline in the rendered fields (`deadline_local`); check
that the triggerer is running.

*Marked success by hand?* That shortens nothing: the steps after it (the member batches,
*offboard_leaders*, *close_wecom_enterprise*) compute the deadline again from the case and refuse until
it has passed. Records `deadline.reached` in the ledger when it ends.
"""

CREDITOR_OBJECTIONS = """
**Record creditor objections** — after the notice period, the legal representative records whether a
creditor objected (异议). *No objections* lets the case go on; *Objection received* records the details
and routes to its resolution.
"""

CREDITOR_OBJECTIONS_BODY = """
The notice period has ended. Did any creditor object (债权人异议) during the notice? For an objection,
give the creditor, the claim and the date it was received.
"""

HANDLE_OBJECTION = """
**Handle the creditor objection** — keeps the objection's details in `legal/creditor_objection.json`
and in the ledger, and hands it to the legal representative to resolve. Nothing in WeCom changes.
"""

RESOLVE_OBJECTION = """
**Resolve the creditor objection** — the legal representative records how the objection was resolved
(paid, secured, agreed, or withdrawn) and when. Members are only removed after this.

*If it stalls*: resolving a claim can take long; the case waits here, holding no worker slot.
"""

RESOLVE_OBJECTION_BODY = """
A creditor objected to the deregistration: {{ (ti.xcom_pull(task_ids='dissolution_notice.handle_creditor_objection') or {}).get('objection') }}.
Record how it was resolved (清偿 / 提供担保 / 和解 / 撤回) and the date.
"""

OBJECTIONS_SETTLED = """
**Objections settled** — joins the two paths after the notice: no objection, or an objection resolved.
"""

APPROVE_MEMBER_DELETION = """
**Approve removing every member** — the approvers named in the form see the plan (how many members, in
how many batches, who is kept until the enterprise closes) and approve or reject. Nothing is deleted
before this; every batch checks the approval in the ledger again. Rejecting skips the removal and the
enterprise closure; the case closes with the rejection recorded.

*If it stalls*: remind the approvers; only they can answer.
"""

PLAN_MEMBER_BATCHES = """
**Plan the member batches** — lists every member by cursor (`user/list_id`), checks the successor and
the admin are members, and orders them: everyone else first, then the admins of the connection extra
`admin_userids`, then the kept members (the successor and the admin who closes the enterprise). Cut in
batches of 200 and saved to `members/plan.json`; made once per case (a rerun reuses it). Only reads WeCom.
"""

OFFBOARD_MEMBER_BATCH = """
**Offboard one batch of members** (mapped: one task instance per 200 members, "batch 7/50 (members
1201–1400)") — backs up each member (profile, customers, customer groups; streamed; the batch's
manifest read back and verified), hands customers (on-job, ≤ 100 per call) and customer groups (≤ 100
per call, ≤ 300 a day per owner) to the successor, deletes with `user/batchdelete` only the members
whose backup verified, then transfers what is left as 离职继承. Progress per member in
`members/<batch>/progress.json`: a retry redoes only what is left and never deletes twice. At most 4
batches run at once, each at its share of WeCom's rate limit. Customer groups beyond WeCom's 300 a
day are listed as deferred (the task still succeeds): clear the task instance on a later day to hand
them over.

Nothing starts before the notice period has ended (checked here again, from the publication recorded
in the ledger).

*If it fails*: the log lists the members WeCom refused (and why). Fix that (visible range,
permissions), then clear this task instance only. Refused with "… the notice period ends …": the notice
wait was marked success by hand; clear dissolution_notice.wait_for_notice_period_end and let it end.
"""

SUMMARISE_MEMBERS = """
**Summarise the member offboarding** — totals every batch (how many offboarded of how many, kept,
already gone, customers and groups not handed over), writes every member's outcome to
`members/outcomes.csv` and `.jsonl`, verifies the whole members' backup against one manifest, and reads
WeCom back: who is still listed (only the kept members should be).

*If it fails*: a member is still pending or failed: clear that batch first.
"""

CLOSE_ENTERPRISE = """
**Close the WeCom enterprise** (解散企业) — no API exists: the admin dissolves the enterprise in the
admin console (我的企业 › 企业信息 › 解散企业) once only the kept members are left, and the legal
representative records the date and the confirmation WeCom showed. Irreversible. Asked only once the
notice period has ended (checked here again).

*If it stalls*: remind the legal representative; the admin's account deregistration waits for it.

*Refused with "… the notice period ends …"?* The wait before it was marked success by hand: this step
checks the legal deadline itself (from the case's form and ledger). Clear the wait
(dissolution_notice.wait_for_notice_period_end) and let it end, then clear this task.
"""

CLOSE_ENTERPRISE_BODY = """
{% set members = ti.xcom_pull(task_ids='offboard_all_members.summarise_member_offboarding') or {} %}
Members: {{ members.get('done', 'not summarised') }}. WeCom still lists
{{ members.get('members_left_in_wecom', '?') }} member(s){% if members.get('unexpected_members_left') %},
including members the plan did not keep: {{ members.get('unexpected_members_left') | join(', ') }} —
they would go WITHOUT a backup{% endif %}. Customers and customer groups not handed over:
{{ members.get('items_not_handed_over', '?') }} (listed in `members/outcomes.csv`; deferred groups are
handed over by clearing their batch on a later day).

The admin `{{ params.admin_userid or 'a super admin' }}` dissolves the enterprise in the WeCom admin console (解散企业).
Record the date and the confirmation WeCom showed (text or screenshot reference).
"""

CLOSE_COMPANY_CASE = """
**Close the case** — writes the company's evidence bundle next to the backup: the hash-chained ledger
(legal steps' evidence, the notice and its period, the approval, every batch, the final read-back of
WeCom) and a readable report (Markdown and HTML); per-member outcomes are in `members/outcomes.csv`.
The report states whether the ledger verifies (HMACs under the evidence key, and the XCom
`evidence_anchor` of the earlier tasks); the task's XCom holds the report's location and sha256.
"""

OFFBOARD_LEADERS = """
**Offboard the leaders** — the same steps as a member batch for the leaders, after every other batch:
the admins of the connection extra `admin_userids` are backed up, handed over and deleted last; the
successor and the admin who closes the enterprise are backed up and kept (they go with the enterprise
closure), and so is the creator (WeCom refuses to delete the creator: 301005).

*If it fails*: as for a member batch: fix what the log says, then clear this task.
"""

GUIDE_SENT = """
**Guide sent (or not needed)** — the member is deleted only after this: a deleted member can no longer
receive the deregistration guide by app message.
"""


# -- offboard_layoff --------------------------------------------------------------------------------

CHECK_LAYOFF_CASE = """
**Check the list** — validates the trigger form again (the list id and name, the last working day, every
person and their successor: nobody listed twice, no successor who is leaving too, nobody their own
successor; the owners against the deployment's lists, no approver who is on the list, a successor or the
user who triggered it), checks the connections and rehearsal time, and claims `<root>/<case_id>/`
(`layoff-<list id>`) for this run so a list is never offboarded by two runs.

*If it fails*: the log names every field that is wrong (`persons[12].successor_userid: ...`). Trigger a
new run with a corrected list (`offboarding bulk-trigger export.csv --one-case <list id>` checks it before
anything is created).
"""

CHECK_LISTED_MEMBERS = """
**Check the listed persons and their successors** — reads the corp's member ids once (`user/list_id`,
by cursor): listed persons WeCom does not know are recorded as not in WeCom (their batch marks them
*already gone*); every successor must be a member and active (`user/get`). Only reads WeCom.

*If it fails*: a successor is missing or not active: trigger the list again with active successors.
A configuration error names the Airflow connection to fix.
"""

APPROVE_LIST_DELETION = """
**Approve deleting the listed persons** — one approval for the whole list: the approvers named in the
form see the plan (how many persons, in how many batches, to which successors) and approve or reject.
Asked as soon as the plan is made, so it can be given before the last working day; nothing is deleted
before it and before the last working day has ended (each batch checks both again, against Airflow's
own record of this answer). Rejecting skips every batch; the case closes with the rejection recorded.

*If it stalls*: remind the approvers; only they can answer (never someone on the list, a successor or
whoever triggered the list).
"""

PLAN_LAYOFF_BATCHES = """
**Plan the batches** — cuts the list in batches of up to 200 persons who share a successor (one
`user/batchdelete` call each; customers and groups of a batch go to one successor) and saves the plan to
`members/plan.json`, once per case (a rerun reuses it, so batches never shift). Writes nothing to WeCom.
"""

OFFBOARD_LAYOFF_BATCH = """
**Offboard one batch of persons** (mapped: "batch 3/5 (members 401–600) → lisi") — the company
wind-up's batch: backs up each person (profile, customers, customer groups; the batch's manifest read
back and verified), hands customers and customer groups to the batch's successor (on-job, ≤ 100 per
call), deletes with `user/batchdelete` only the persons whose backup verified, then transfers what is
left as 离职继承. Progress per person in `members/<batch>/progress.json`: a retry redoes only what is left
and never deletes twice. At most 4 batches run at once, within WeCom's rate limits (shared in Redis
across the deployment when configured).

Nothing starts before the approval and the end of the last working day (both checked here again).

*If it fails*: the log lists the persons WeCom refused (and why). Fix that (visible range, permissions),
then clear this task instance only. Refused with "… the last working day ends …": the wait was marked
success by hand; clear preflight.wait_for_last_working_day and let it end.
"""

SUMMARISE_LAYOFF = """
**Summarise the list** — totals every batch (offboarded, already gone, customers and groups not handed
over), writes every person's outcome to `members/outcomes.csv` and `.jsonl`, verifies the whole backup
against one manifest, and reads WeCom back: no listed person should still be a member.

*If it fails*: a person is still pending or failed: clear that batch first.
"""

CLOSE_LAYOFF_CASE = """
**Close the case** — writes the list's evidence bundle next to the backup: the hash-chained ledger (the
check, the plan, the approval, every batch, the read-back of WeCom) and a readable report; per-person
outcomes are in `members/outcomes.csv`. The task's XCom holds the report's location and sha256.
"""
