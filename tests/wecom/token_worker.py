"""One worker process of the token-sharing tests (run by test_wecom_token_cache.py, not collected).

Usage: python token_worker.py BASE_URL CORPID SECRET CACHE_URL CALLS
Prints "ready", waits for a line on stdin (so all workers start together), makes CALLS user/get calls
through a client using the shared token cache at CACHE_URL, then prints "done CALLS".
"""

from __future__ import annotations

import sys

from offboarding.wecom import Contacts, WeComClient, token_cache_from_url


def main(argv: list[str]) -> int:
    base_url, corpid, secret, cache_url, count = argv
    client = WeComClient(corpid, secret, base_url=base_url, token_cache=token_cache_from_url(cache_url))
    contacts = Contacts(client)
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(int(count)):
        contacts.get_user("lisi")
    print(f"done {count}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
