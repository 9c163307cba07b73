"""WeCom endpoints of the sandbox, one module per API area; each module exposes ``ROUTES``."""

from __future__ import annotations

from offboarding_dev.sandbox.endpoints.base import WeComRoute


def all_routes() -> dict[str, WeComRoute]:
    """Every WeCom route the sandbox answers, by path."""
    from offboarding_dev.sandbox.endpoints import (
        appchat,
        auth,
        contacts,
        customers,
        handover,
        messages,
        tags,
        wedrive,
    )

    routes: dict[str, WeComRoute] = {}
    for module in (auth, contacts, tags, appchat, customers, handover, wedrive, messages):
        for route in module.ROUTES:
            routes[route.path] = route
    return routes
