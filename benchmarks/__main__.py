"""``python -m benchmarks [--quick] [--only NAME ...]``: run the benches, print the table, write the results."""

from __future__ import annotations

from benchmarks.cli import main

raise SystemExit(main())
