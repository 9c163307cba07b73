"""The Airflow pools the offboarding DAGs use, created when a scheduler, triggerer or dag-processor starts.

A task in a pool that does not exist is never scheduled (Airflow 3.3 logs "Tasks using non-existent
pool ... will not be scheduled" and shows a DAG warning, nothing more): a fresh deployment would hold
every case before its first backup export. So the plugin registers this module as a listener, and its
``on_starting`` creates each missing pool with the default slots of :data:`offboarding.settings.DEFAULT_POOLS`.
It never changes a pool that exists: the slots an operator set (``airflow pools set``) stay.

The deployment's setup creates them explicitly too (``docker-compose.yaml``'s airflow-init, the test
harness, the demo), with the sizes docs/deployment.md explains.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.listeners import hookimpl

from offboarding.settings import offboarding_pools

log = logging.getLogger(__name__)


def ensure_pools() -> list[str]:
    """Create every offboarding pool that is missing (existing ones untouched); return the names created."""
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    created: list[str] = []
    for name, (slots, description) in offboarding_pools().items():
        try:
            with create_session() as own:
                if own.scalar(select(Pool.id).where(Pool.pool == name)) is not None:
                    continue
                own.add(Pool(pool=name, slots=slots, description=description, include_deferred=False))
            created.append(name)
        except IntegrityError:  # another component created it at the same moment
            continue
    if created:
        log.info("Created the offboarding pools %s (set their slots with `airflow pools set`)", created)
    return created


@hookimpl
def on_starting(component: Any) -> None:
    """A scheduler/triggerer/dag-processor job starts (they hold the database): make sure the pools exist.

    Task processes call this hook too (with a marker, no database access): they are left alone.
    """
    if type(component).__name__ != "Job":
        return
    try:
        ensure_pools()
    except Exception:  # never keep a component from starting; the cases page shows a missing pool
        log.exception("Could not create the offboarding pools; create them with `airflow pools set`")
