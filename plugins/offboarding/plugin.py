"""The Airflow plugin: the "Offboarding cases" page (a FastAPI app) and its places in the Airflow UI,
and the trigger forms' custom formats (the credit code's check character) in every Airflow process;
a listener that creates the offboarding pools when a scheduler/triggerer/dag-processor starts; a middleware
that has the scheduler examine a case's run as soon as one of its tasks changed state
(:mod:`offboarding.scheduling_nudge`).

Every Airflow process loads plugins (task processes too, for macros), but only the api-server
serves the page: the app is imported on its first request, so a task start does not pay for
FastAPI and the api-server's security modules.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from offboarding import pools
from offboarding.cases.formats import register_format_checks
from offboarding.scheduling_nudge import SchedulingNudge

# The api-server validates a trigger form when the run is created: it must know ``cn-credit-code``
# so a credit code with a wrong check character is refused there, naming the field.
register_format_checks()

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class LazyAsgiApp:
    """An ASGI app that imports ``module:attribute`` on first use and hands every call to it."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._app: Any = None

    def load(self) -> Any:
        if self._app is None:
            module, _, attribute = self.target.partition(":")
            self._app = getattr(importlib.import_module(module), attribute)
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.load()(scope, receive, send)

    def __repr__(self) -> str:
        return f"LazyAsgiApp({self.target!r})"


class OffboardingPlugin(AirflowPlugin):
    name = "offboarding"
    # Creates the offboarding pools (if missing) when a scheduler, triggerer or dag-processor starts.
    listeners: ClassVar[list[Any]] = [pools]
    # After a task of a case changed state, the scheduler examines its run in its next loop.
    fastapi_root_middlewares: ClassVar[list[dict[str, Any]]] = [
        {
            "middleware": SchedulingNudge,
            "name": "Offboarding: examine a case's run after its task changed state",
        }
    ]
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {
            "app": LazyAsgiApp("offboarding.cases_page.app:app"),
            "url_prefix": "/offboarding",
            "name": "Offboarding cases",
        }
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "Offboarding cases",
            "href": "/offboarding/cases",
            "destination": "nav",
            "url_route": "offboarding-cases",
            "category": "browse",
        },
        {
            "name": "Offboarding case",
            "href": "/offboarding/cases?dag_id={DAG_ID}&run_id={RUN_ID}",
            "destination": "dag_run",
            "url_route": "offboarding-case",
        },
    ]
