"""Airflow operators of the offboarding product."""
