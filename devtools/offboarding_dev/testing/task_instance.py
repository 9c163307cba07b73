"""A task instance with XCom in memory, for running operators by ``execute(context)`` outside Airflow
(the operator tests and the benchmarks; the end-to-end tests run them in a real Airflow)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class MemoryTaskInstance:
    """XCom kept in memory, keyed like Airflow's: (task_id, key)."""

    task_id: str = "task"
    xcoms: dict[tuple[str, str], Any] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    """The task instance id (Airflow's human-in-the-loop record is keyed by it)."""

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[(self.task_id, key)] = value

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value") -> Any:
        return self.xcoms.get((task_ids or self.task_id, key))
