"""``python -m offboarding_dev.sandbox``: run the WeCom sandbox (see ``--help``)."""

from __future__ import annotations

import sys

from offboarding_dev.sandbox.cli import main

if __name__ == "__main__":
    sys.exit(main())
