"""Disable members (``user/update enable=0``, reversible) and move them to the leavers' department.

The department is the connection extra ``leavers_department_id`` (not moved when unset). Each member is
read first (already disabled and in place → no write; already deleted → nothing to do) and read back
after the update: :attr:`Disabled.done` says whether WeCom now shows them disabled and in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from offboarding.steps.corp import WeComCorp, read_member

DISABLED_STATUS = 2


@dataclass(frozen=True)
class Disabled:
    """What disabling one member did: the member before, the changes sent, WeCom's read-back."""

    member: str
    gone: bool = False
    before: Mapping[str, Any] = field(default_factory=dict)
    changes: Mapping[str, Any] = field(default_factory=dict)
    read_back: Mapping[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """True when the read-back shows the member disabled (and in the leavers' department if moved)."""
        return self.gone or (
            self.read_back.get("status") == DISABLED_STATUS
            and (
                "department" not in self.changes
                or self.read_back.get("department") == self.changes["department"]
            )
        )


def changes_to_disable(before: Mapping[str, Any], leavers_department_id: int | None) -> dict[str, Any]:
    """The ``user/update`` fields that disable the member and move them to the leavers' department."""
    changes: dict[str, Any] = {}
    if before.get("status") != DISABLED_STATUS:
        changes["enable"] = 0
    leavers = leavers_department_id
    if leavers is not None and list(before.get("department") or []) != [leavers]:
        changes.update(department=[leavers], main_department=leavers, is_leader_in_dept=[0], order=[0])
    return changes


def disable_members(corp: WeComCorp, members: Sequence[str]) -> list[Disabled]:
    """Disable each member (one read, one update when needed, one read-back)."""
    done = []
    for member in members:
        before = read_member(corp, member)
        if before is None:
            done.append(Disabled(member, gone=True))
            continue
        changes = changes_to_disable(before, corp.leavers_department_id)
        if changes:
            corp.contacts.update_user(member, **changes)
        after = read_member(corp, member) or {}
        done.append(
            Disabled(
                member,
                before={"status": before.get("status"), "department": before.get("department")},
                changes=changes,
                read_back={"status": after.get("status"), "department": after.get("department")},
            )
        )
    return done
