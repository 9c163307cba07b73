"""Fail the image build when the installed Python packages are not exactly the ones in requirements.lock.

The Dockerfile installs the lock with ``pip install --no-deps`` on top of the official Airflow image, which
already ships its own versions of many of the same packages. This check proves the lock won: every
locked distribution is importable at exactly its locked version (the version Python actually loads, i.e.
the first one on ``sys.path``), and each ``--provider`` distribution is installed and exposes an
``apache_airflow_provider`` entry point (what makes Airflow register the ``wecom`` connection type).
Packages the base image has and the lock does not mention are left alone and only counted.

Standard library only. Usage: ``python verify_locked_install.py requirements.lock --provider wecom-offboarding``
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*(?P<version>[^\s;#]+)\s*$")
PROVIDER_ENTRY_POINT_GROUP = "apache_airflow_provider"


class LockFileError(Exception):
    """requirements.lock holds a line this check cannot treat as an exact pin."""


def normalize(name: str) -> str:
    """PEP 503 normalized distribution name (``Foo_Bar.baz`` -> ``foo-bar-baz``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, str]:
    """Map normalized distribution name -> exact version for every pin of a ``uv pip compile`` lock."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or raw[:1].isspace():
            continue  # blank, comment, or an indented "# via ..." annotation
        match = _PIN.match(line)
        if match is None:
            raise LockFileError(
                f"{path}:{number}: {line!r} is not an exact 'name==version' pin (environment markers, "
                "ranges and options are not allowed in the lock)"
            )
        name = normalize(match["name"])
        if name in pins:
            raise LockFileError(f"{path}:{number}: {match['name']} is pinned twice")
        pins[name] = match["version"]
    if not pins:
        raise LockFileError(f"{path}: no pinned packages found")
    return pins


def installed_version(name: str) -> str | None:
    """The version Python imports for distribution ``name``, or None when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def lock_problems(
    pins: dict[str, str], version_of: Callable[[str], str | None] = installed_version
) -> list[str]:
    """One line per locked distribution that is missing or installed at another version."""
    problems = []
    for name, wanted in sorted(pins.items()):
        found = version_of(name)
        if found is None:
            problems.append(f"{name}: locked {wanted}, not installed")
        elif found != wanted:
            problems.append(f"{name}: locked {wanted}, installed {found}")
    return problems


def provider_problem(distribution: str) -> str | None:
    """Why ``distribution`` would not register as an Airflow provider, or None when it would."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return f"{distribution}: not installed"
    if not any(ep.group == PROVIDER_ENTRY_POINT_GROUP for ep in dist.entry_points):
        return f"{distribution}: installed but has no '{PROVIDER_ENTRY_POINT_GROUP}' entry point"
    return None


def _unlocked_count(pins: dict[str, str]) -> int:
    names = {normalize(d.metadata["Name"] or "") for d in metadata.distributions()}
    return len(names - set(pins) - {""})


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns 0 when the environment matches the lock, else 1 (2: bad lock)."""
    parser = argparse.ArgumentParser(prog="verify_locked_install.py", description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path, help="path to requirements.lock")
    parser.add_argument(
        "--provider",
        action="append",
        default=[],
        help="distribution that must expose an apache_airflow_provider entry point (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        pins = read_lock(args.lock)
    except (LockFileError, OSError) as exc:
        print(f"verify_locked_install.py: {exc}", file=sys.stderr)
        return 2
    problems = lock_problems(pins)
    problems += [p for p in (provider_problem(d) for d in args.provider) if p]
    if problems:
        print(f"installed packages do not match {args.lock}:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(
        f"all {len(pins)} locked packages installed at their locked versions; providers ok: "
        f"{', '.join(args.provider) or 'none checked'}; {_unlocked_count(pins)} other distributions "
        "come from the base image"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
