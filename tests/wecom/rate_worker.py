"""One worker process of the shared rate-limit tests (run by test_shared_rate_limit.py, not collected).

Usage: python rate_worker.py LIMITER PREFIX RATE CALLS
LIMITER is a Redis URL (a RedisRateLimiter shared through it) or ``local`` (this process' own
RateLimiter). Prints "ready", waits for a line on stdin (so all workers start together), acquires
CALLS slots of one corp's ``/cgi-bin/user/get`` and prints the wall-clock instants as a JSON list.
"""

from __future__ import annotations

import json
import sys
import time

from offboarding.wecom.ratelimit import Limiter, RateLimiter, RedisRateLimiter


def main(argv: list[str]) -> int:
    where, prefix, rate, count = argv
    limiter: Limiter
    if where == "local":
        limiter = RateLimiter(float(rate), burst=1)
    else:
        limiter = RedisRateLimiter(where, calls_per_second=float(rate), burst=1, prefix=prefix)
    print("ready", flush=True)
    sys.stdin.readline()
    instants = []
    for _ in range(int(count)):
        limiter.acquire("/cgi-bin/user/get", "wwcorp000001")
        instants.append(time.time())
    print(json.dumps(instants), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
