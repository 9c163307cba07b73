"""Test harnesses that run real components (a real ``airflow standalone``) for end-to-end tests.

* ``offboarding_dev.testing.airflow.running_airflow`` — a throw-away Airflow (SQLite, LocalExecutor,
  SimpleAuthManager) on a free loopback port, with the REST client ready to use.

These modules import nothing from Airflow themselves: the Airflow components run in their own
processes with their own ``AIRFLOW_HOME``, so a test process never touches a user's ``~/airflow``.
"""
