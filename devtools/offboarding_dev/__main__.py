"""``python -m offboarding_dev``: the dev command line (see ``offboarding_dev.cli``)."""

from offboarding_dev.cli import main

raise SystemExit(main())
