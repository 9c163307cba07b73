"""Fixtures for the core steps: a WeCom corp on the sandbox, built from the WeCom client alone.

No Airflow here: the steps take any object shaped like :class:`offboarding.steps.corp.WeComCorp`; the
person operators pass their ``WeComHook``, these tests a :class:`SandboxCorp` over HTTP to the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pytest

from offboarding.wecom import (
    AppChats,
    Contacts,
    CustomerContacts,
    MemoryTokenCache,
    RetryPolicy,
    Tags,
    WeComClient,
)

FAST_RETRY = RetryPolicy(base_seconds=0.005, cap_seconds=0.02, rate_limit_block_seconds=0.05)


@dataclass
class SandboxCorp:
    """The sandbox corp with one client (the sandbox takes one secret for every API)."""

    base_url: str
    corpid: str
    secret: str
    app_chat_ids: list[str] = field(default_factory=list)
    leavers_department_id: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def _client(self) -> WeComClient:
        return WeComClient(
            self.corpid, self.secret, base_url=self.base_url, token_cache=MemoryTokenCache(), retry=FAST_RETRY
        )

    def client(self, kind: str = "app") -> WeComClient:
        return self._client

    @cached_property
    def contacts(self) -> Contacts:
        return Contacts(self._client)

    @cached_property
    def customer_contacts(self) -> CustomerContacts:
        return CustomerContacts(self._client)

    @cached_property
    def tags(self) -> Tags:
        return Tags(self._client)

    @cached_property
    def app_chats(self) -> AppChats:
        return AppChats(self._client)


@pytest.fixture
def make_corp() -> Any:
    """``make_corp(running_sandbox)`` -> a :class:`SandboxCorp` on that sandbox."""
    return lambda sandbox: SandboxCorp(sandbox.base_url, sandbox.corpid, sandbox.secret)


@pytest.fixture
def corp(sandbox: Any) -> SandboxCorp:
    """The freshly reset default sandbox corp (seed ``default``: lisi, wangwu, bigsales, ...)."""
    return SandboxCorp(sandbox.base_url, sandbox.corpid, sandbox.secret, app_chat_ids=["chat_other_app"])


@pytest.fixture
def calls(sandbox: Any) -> Any:
    """``calls(path)``: how many times the sandbox saw ``/cgi-bin/<path>`` since its reset."""

    def count(path: str) -> int:
        return int(sandbox.control.stats(include_writes=False)["calls"].get(f"/cgi-bin/{path}", 0))

    return count


@pytest.fixture
def store(tmp_path: Any) -> Any:
    from offboarding.backup.storage import BackupStore

    return BackupStore(str(tmp_path / "backups"))


@pytest.fixture
def ledger(store: Any, evidence_key: Any) -> Any:
    from offboarding.evidence.ledger import EvidenceLedger

    return EvidenceLedger(store, "offboard-lisi", key=evidence_key)
