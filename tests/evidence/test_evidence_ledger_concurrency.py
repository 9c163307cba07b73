"""Two real processes appending to one case's ledger at the same time still produce one valid chain."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from offboarding.backup import BackupStore
from offboarding.evidence import EvidenceLedger
from offboarding.evidence.keys import key_from_environment

CASE = "offboard-zhangsan"
PER_PROCESS = 200

APPENDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from offboarding.backup import BackupStore
    from offboarding.evidence import EvidenceLedger
    from offboarding.evidence.keys import key_from_environment

    root, actor, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    ledger = EvidenceLedger(BackupStore(root), "offboard-zhangsan", key=key_from_environment())
    while not go.exists():  # start together so the appends really interleave
        time.sleep(0.005)
    for n in range(count):
        ledger.append("handover.customer", actor=actor, step="hand_over_customers", key=f"{actor}-{n}",
                      request={"external_userid": f"wm{actor}{n}"}, result={"errcode": 0})
    """
)


def test_two_processes_appending_200_entries_each_make_a_valid_chain_of_400(tmp_path: Path) -> None:
    root = tmp_path / "backups"
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(root), actor, str(PER_PROCESS), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for actor in ("worker_a", "worker_b")
    ]
    time.sleep(0.5)  # let both interpreters start and wait at the line
    go.touch()
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr.decode()

    ledger = EvidenceLedger(BackupStore(str(root)), CASE, key=key_from_environment())
    report = ledger.verify_chain()
    entries = list(ledger.entries())

    assert report.ok, report.summary_text()
    assert report.entries == 2 * PER_PROCESS
    assert [entry.seq for entry in entries] == list(range(1, 2 * PER_PROCESS + 1))
    assert Counter(entry.actor for entry in entries) == {"worker_a": PER_PROCESS, "worker_b": PER_PROCESS}
    assert len({entry.key for entry in entries}) == 2 * PER_PROCESS  # nothing lost or written twice
