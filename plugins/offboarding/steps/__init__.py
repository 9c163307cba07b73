"""The offboarding steps, without Airflow: each works on members (a person is a list of one, a company
batch a list of up to 200) and is called by the person operators and the company batches alike.

One module per step, in the words of the checklist:

* :mod:`.corp` — what a step needs of a WeCom corp (:class:`~.corp.WeComCorp`; ``WeComHook`` is one);
* :mod:`.person_backup` — a person's profile, memberships, customers and groups, before anything changes;
  :mod:`.member_backup` — the verified backup of a batch of members; :mod:`.not_exported` — what no API gives;
* :mod:`.verified_backup` — the ``backup.verified`` entry the deletion gates trust;
* :mod:`.transfer` — THE transfer algorithm: customers and customer groups to the successor, on-job
  (在职继承) or resigned (离职继承), one outcome per customer/group (errcode and reason, never dropped),
  with the outcome words of :mod:`.outcomes`;
* :mod:`.onjob_handover`, :mod:`.resigned_handover` — a person's transfers with their results files
  (:mod:`.handover_files`); :mod:`.batch_handover` — a batch's, with its progress;
* :mod:`.leaving` — out of the app's tags and app chats; :mod:`.disabling` — ``enable=0``, read back;
* :mod:`.deleting` — ``user/delete`` and ``user/batchdelete`` (callers check the deletion gates first);
* :mod:`.takeover` — where the customers' takeover stands (``transfer_result``);
* :mod:`.batches`, :mod:`.progress` — the company's member plan and each batch's per-member progress;
* :mod:`.undo` — undoing what an offboarding did, in reverse order (a rescinded case).

Steps import the WeCom client and the domain (cases, backup, evidence, policy), never Airflow: a
failure a retry cannot fix is :class:`~.errors.StepFailed`, which the adapters turn into a task failure.
"""
