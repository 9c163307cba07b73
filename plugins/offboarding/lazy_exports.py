"""A package's public names, imported from their modules on first use (PEP 562).

The DAG files import the operators, which import these packages; what a name pulls in (the WeCom
client and ``requests``, the report renderer, the watchdog) is needed when a task runs, not while the
DAG processor parses the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``exports[name]`` when ``name`` is first read."""

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
