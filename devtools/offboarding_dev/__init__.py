"""Dev tools of wecom-offboarding (the ``wecom-offboarding-dev`` distribution; never in production).

* ``offboarding_dev.sandbox`` — the WeCom counterpart: a stateful local server with WeCom's documented
  durations (imports nothing of the product);
* ``offboarding_dev.testing`` — test harnesses: a real ``airflow standalone``, the distributed topology,
  an in-memory task instance;
* ``offboarding_dev.rehearsal`` — the rehearsal responder that plays the people of a rehearsal
  (``offboarding-dev rehearse-responder``);
* ``offboarding_dev.demo`` — ``make demo``;
* ``offboarding_dev.synthetic`` — synthetic cases for the cases-page benchmark.
"""

__version__ = "0.1.0"
