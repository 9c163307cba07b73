"""The one failure a step raises on its own: what a retry cannot fix, with what to do."""

from __future__ import annotations


class StepFailed(Exception):
    """A step cannot go on (e.g. WeCom reads back something else than was written); the message says
    what to do. The Airflow adapters turn it into a task failure without retries."""
