"""Keep a test Airflow's scheduler, triggerer and DAG processor running, as ``restart: always`` does.

``airflow standalone`` starts each component once: when the scheduler exits (e.g. on a SQLite
"database is locked" error, which the scheduler does not survive) or hangs, the cases stay *queued*
with nothing saying why. The deployment's ``docker-compose.yaml`` restarts a component that exits;
``keep_running(airflow, say)`` gives the demo the same: every few seconds it looks for each
component's main process and reads ``/monitor/health``, and

- starts a component again when its process is gone;
- restarts it (SIGKILL, then start) when it is alive but its heartbeat is older than ``hung_after``;

saying each time what happened and where the new component logs (``say``), so nothing is hidden.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

from offboarding.airflow_api import AirflowApiError

from .airflow import HEARTBEATS, RunningAirflow, last_heartbeat

#: Seconds between two looks at the components.
CHECK_SECONDS = 5.0
#: A live component whose heartbeat is older than this is taken as hung (the components heartbeat
#: every 2 s; a loaded 2-core machine delays that by seconds, not minutes).
HUNG_AFTER_SECONDS = 180.0


def heartbeat_age(health: dict, command: str, now: datetime) -> float | None:
    """Seconds since ``airflow <command>`` last heartbeat, per ``/monitor/health`` (None: never)."""
    beat = last_heartbeat(health, command)
    return (now - beat).total_seconds() if beat else None


def describe_health(health: dict) -> str:
    """One line for a person: each component's status and last heartbeat (UTC)."""
    parts = []
    for command, (component, _) in HEARTBEATS.items():
        beat = last_heartbeat(health, command)
        when = beat.astimezone(UTC).strftime("%H:%M:%S UTC") if beat else "never"
        parts.append(
            f"{command} {(health.get(component) or {}).get('status', 'unknown')} (last heartbeat {when})"
        )
    return "; ".join(parts)


class ComponentKeeper:
    """The thread behind :func:`keep_running`."""

    def __init__(
        self,
        airflow: RunningAirflow,
        say: Callable[[str], None],
        *,
        commands: Sequence[str],
        check_seconds: float,
        hung_after: float,
    ) -> None:
        self.airflow = airflow
        self.commands = tuple(commands)
        self.say = say
        self.check_seconds = check_seconds
        self.hung_after = hung_after
        self.restarts: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="airflow-component-keeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(120)

    def _run(self) -> None:
        with self.airflow.api() as api:
            while not self._stop.wait(self.check_seconds):
                try:
                    health = api.health()
                except AirflowApiError:
                    health = None  # the api-server is busy: judge by the processes alone this round
                for command in self.commands:
                    if self._stop.is_set():
                        return
                    try:
                        self.check(command, health)
                    except Exception as exc:  # the keeper must outlive any one look; say it and go on
                        self.say(f"warning: could not check the Airflow {command}: {exc!r}")

    def check(self, command: str, health: dict | None) -> None:
        """Start ``command`` again if its process is gone, restart it if its heartbeat is too old."""
        if not self.airflow.component_roots(command):
            reason = "its process is gone"
        elif health is not None and (age := heartbeat_age(health, command, datetime.now(UTC))) is not None:
            if age <= self.hung_after:
                return
            reason = f"it has not heartbeat for {age:.0f}s"
        else:
            return
        stamp = datetime.now(UTC).strftime("%H:%M:%S UTC")
        try:
            log = self.airflow.restart(command, hard=True)
        except RuntimeError as exc:
            self.say(f"the Airflow {command} stopped at {stamp} ({reason}) and did not come back: {exc}")
            return
        self.restarts.append(command)
        self.say(f"the Airflow {command} stopped at {stamp} ({reason}); started it again, its log: {log}")


@contextlib.contextmanager
def keep_running(
    airflow: RunningAirflow,
    say: Callable[[str], None],
    *,
    commands: Sequence[str] = tuple(HEARTBEATS),
    check_seconds: float = CHECK_SECONDS,
    hung_after: float = HUNG_AFTER_SECONDS,
) -> Iterator[ComponentKeeper]:
    """Keep ``airflow``'s components (``commands``, default all three) running while the block runs."""
    keeper = ComponentKeeper(
        airflow, say, commands=commands, check_seconds=check_seconds, hung_after=hung_after
    )
    keeper.start()
    try:
        yield keeper
    finally:
        keeper.stop()
