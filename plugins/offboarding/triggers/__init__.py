"""Deferrable triggers of the offboarding product (run in the Airflow triggerer; not under dags/)."""
