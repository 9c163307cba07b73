"""Airflow hooks: read an Airflow Connection, hand back a configured WeCom client."""
