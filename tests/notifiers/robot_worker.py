"""Send messages through ``WeComRobotNotifier`` from several threads of one process.

Run by the robot-limit test as separate processes: ``python robot_worker.py <conn_id> <first> <count>``.
Exits non-zero if any message raised.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor


def send(conn_id: str, number: int) -> None:
    from offboarding.notifiers import WeComRobotNotifier

    WeComRobotNotifier(wecom_webhook_conn_id=conn_id, text=f"burst message #{number:02d}").notify({})


def main() -> int:
    conn_id, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    import offboarding.notifiers  # noqa: F401  (import once before the threads start)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(send, conn_id, n) for n in range(first, first + count)]
    errors = [f.exception() for f in futures if f.exception() is not None]
    for error in errors:
        print(f"ERROR {type(error).__name__}: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
