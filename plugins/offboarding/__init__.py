"""WeCom (企业微信) offboarding and company wind-up on Apache Airflow.

Layers, bottom up (each knows only the layers below it):

* ``offboarding.legal_time`` and ``offboarding.policy`` — the PRC calendar and the duration policy (pure);
* ``offboarding.wecom`` — the WeCom server API client (no Airflow import);
* ``offboarding.{hooks,operators,sensors,triggers,notifiers}`` — the Airflow parts;
* ``offboarding.workflows`` — task-group factories the DAGs are built from;
* ``offboarding.plugin`` — the Airflow plugin (UI page, API, listeners).

The WeCom sandbox, the test harness, the rehearsal responder and the demo are the separate dev
distribution ``wecom-offboarding-dev`` (``devtools/offboarding_dev``); nothing here imports them.
"""

__version__ = "0.1.0"
