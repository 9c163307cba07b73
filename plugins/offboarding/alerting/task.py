"""What the ``offboarding_watchdog`` DAG's task calls, cheap to import.

The DAG file is parsed every few minutes; the watchdog's rules, messages and memory (and through
them the duration policy and the case schemas) are imported only when a round runs.
"""

from __future__ import annotations

from typing import Any


def run_watchdog_round() -> dict[str, Any]:
    """One round: :func:`offboarding.alerting.watchdog.run_watchdog` with its defaults."""
    from offboarding.alerting.watchdog import run_watchdog

    return run_watchdog()
