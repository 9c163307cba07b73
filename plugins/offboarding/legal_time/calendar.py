"""The PRC working-day calendar: statutory holidays, bridged days off and make-up working days (调休).

Sources, in order of precedence:

1. Announced-schedule overrides (the deployment's ``include/calendar/cn_overrides.yaml``, read by
   :mod:`offboarding.policy` and registered with :func:`set_default_calendar`) — State Council schedules announced after the installed
   ``holidays`` package was released. A year listed there replaces the package's calendar for that
   year entirely (weekdays work, weekends rest, except the listed ``holidays`` and ``working_days``);
   a listed date outside its notice's year (a make-up Saturday in late December) also wins.
2. The ``holidays`` package's China calendar: its holidays are the rest days (statutory days and the
   bridged days off, "Day off (substituted from …)"), and its ``weekend_workdays`` are the make-up
   working days. The years whose State Council notice the package carries are the keys of
   ``ChinaStaticHolidays.special_public_holidays``; for every other year the package only *estimates*
   (statutory days moved off weekends, no make-up days), and we say so: :func:`is_estimated`, a
   WARNING once per year, ``calendar_note(day) == "estimated"``.

This module imports nothing of the product: whoever knows the deployment's override file builds a
:class:`PrcCalendar` from it (:meth:`PrcCalendar.from_override_file`) and either passes it as
``calendar=`` or registers it once with :func:`set_default_calendar`. The registered source is read
once per process; computed years are cached. Call :func:`reload_calendar` after editing the file in a
long-running process (or restart it).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml

from offboarding.legal_time.clock import as_day

log = logging.getLogger(__name__)

CalendarNote = Literal["official", "estimated"]
_SATURDAY = 5
_MIN_YEAR, _MAX_YEAR = 1950, 2200


class CalendarOverrideError(ValueError):
    """The calendar override file is malformed; the message names the file and the key."""


class YearOverride(NamedTuple):
    """One announced schedule from the override file: every day off and every make-up working day."""

    year: int
    holidays: frozenset[dt.date]
    working_days: frozenset[dt.date]
    source: str = ""


class _YearDays(NamedTuple):
    """The computed calendar of one year: weekday rest days and weekend working days."""

    rest_days: frozenset[dt.date]
    make_up_working_days: frozenset[dt.date]
    estimated: bool


def _library_announced_years() -> frozenset[int]:
    """Years whose State Council schedule the installed ``holidays`` package encodes."""
    from holidays.countries.china import ChinaStaticHolidays

    return frozenset(getattr(ChinaStaticHolidays, "special_public_holidays", {}))


def _override_days(raw: Any, where: str) -> frozenset[dt.date]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        raise CalendarOverrideError(f"{where} must be a list of dates like 2027-10-01, got {raw!r}")
    days = set()
    for index, item in enumerate(raw):
        try:
            days.add(as_day(item, f"{where}[{index}]"))
        except (TypeError, ValueError) as err:
            raise CalendarOverrideError(str(err)) from None
    return frozenset(days)


def parse_overrides(document: Any, source: str = "calendar overrides") -> list[YearOverride]:
    """Validate the override file's content (``{"years": {2027: {holidays, working_days, source}}}``)."""
    if document is None:
        return []
    if not isinstance(document, Mapping):
        raise CalendarOverrideError(f"{source}: the file must be a mapping with a 'years:' key")
    unknown = set(document) - {"years"}
    if unknown:
        raise CalendarOverrideError(
            f"{source}: unknown top-level keys {sorted(map(str, unknown))}; expected 'years'"
        )
    years = document.get("years") or {}
    if not isinstance(years, Mapping):
        raise CalendarOverrideError(f"{source}: years must be a mapping of year -> schedule")
    result = []
    for key, entry in years.items():
        try:
            year = int(key)
        except (TypeError, ValueError):
            raise CalendarOverrideError(f"{source}: years.{key} is not a year") from None
        if not _MIN_YEAR <= year <= _MAX_YEAR:
            raise CalendarOverrideError(f"{source}: years.{key} is out of range {_MIN_YEAR}-{_MAX_YEAR}")
        where = f"{source}: years.{year}"
        if not isinstance(entry, Mapping):
            raise CalendarOverrideError(f"{where} must be a mapping with holidays: and working_days: lists")
        unknown = set(entry) - {"holidays", "working_days", "source"}
        if unknown:
            raise CalendarOverrideError(
                f"{where} has unknown keys {sorted(map(str, unknown))}; expected holidays, working_days, source"
            )
        rest = _override_days(entry.get("holidays"), f"{where}.holidays")
        work = _override_days(entry.get("working_days"), f"{where}.working_days")
        for name, days in (("holidays", rest), ("working_days", work)):
            strays = sorted(d for d in days if abs(d.year - year) > 1)
            if strays:
                raise CalendarOverrideError(f"{where}.{name} has dates far from {year}: {strays[0]}")
        both = sorted(rest & work)
        if both:
            raise CalendarOverrideError(
                f"{where}: {both[0]} is listed both as a holiday and as a working day"
            )
        result.append(YearOverride(year, rest, work, str(entry.get("source") or "")))
    return result


def load_overrides(path: str | Path) -> list[YearOverride]:
    """Read and validate an override file; a missing file means no overrides."""
    path = Path(path)
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as handle:
        try:
            document = yaml.safe_load(handle)
        except (yaml.YAMLError, ValueError) as err:  # ValueError: an impossible date like 2027-13-01
            raise CalendarOverrideError(f"{path}: not valid YAML: {err}") from None
    return parse_overrides(document, str(path))


class PrcCalendar:
    """The PRC working-day calendar: the ``holidays`` package plus announced-schedule overrides."""

    def __init__(self, overrides: Iterable[YearOverride] = (), *, overrides_file: str = "") -> None:
        self._overrides = {o.year: o for o in overrides}
        self._forced_rest = frozenset().union(*(o.holidays for o in self._overrides.values()))
        self._forced_work = frozenset().union(*(o.working_days for o in self._overrides.values()))
        self._overrides_file = overrides_file or "include/calendar/cn_overrides.yaml"
        self._years: dict[int, _YearDays] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_override_file(cls, path: str | Path) -> PrcCalendar:
        """A calendar using the overrides in ``path`` (a missing file means none)."""
        return cls(load_overrides(path), overrides_file=str(path))

    def __repr__(self) -> str:
        return f"PrcCalendar(override_years={sorted(self._overrides)}, file={self._overrides_file!r})"

    def _year(self, year: int) -> _YearDays:
        found = self._years.get(year)
        if found is None:
            with self._lock:
                found = self._years.get(year)
                if found is None:
                    found = self._years[year] = self._compute_year(year)
        return found

    def _compute_year(self, year: int) -> _YearDays:
        import holidays  # slow to import (its lunar calendars): only when a year is first computed

        if not _MIN_YEAR <= year <= _MAX_YEAR:
            raise ValueError(f"the PRC calendar covers {_MIN_YEAR}-{_MAX_YEAR}, got a date in {year}")
        in_year = lambda days: frozenset(d for d in days if d.year == year)  # noqa: E731
        if year in self._overrides:
            rest = in_year(self._forced_rest)
            return _YearDays(rest, in_year(self._forced_work), estimated=False)
        # The notice for year+1 may name a make-up working day late in this year.
        library = holidays.China(years=(year, year + 1))
        rest = (in_year(library) | in_year(self._forced_rest)) - self._forced_work
        work = in_year(library.weekend_workdays) | in_year(self._forced_work)
        estimated = year not in _library_announced_years()
        if estimated:
            log.warning(
                "PRC calendar for %s is estimated (holidays %s carries State Council schedules for %s; "
                "make-up working days are unknown and bridged days off are guesses); add the announced "
                "schedule to %s",
                year,
                holidays.__version__,
                _describe_years(_library_announced_years()),
                self._overrides_file,
            )
        return _YearDays(rest, work - rest, estimated=estimated)

    def is_working_day(self, day: dt.date) -> bool:
        """True on a PRC working day: a weekday that is no holiday, or a make-up working day (调休)."""
        day = as_day(day, "day")
        year = self._year(day.year)
        if day.weekday() >= _SATURDAY:
            return day in year.make_up_working_days
        return day not in year.rest_days

    def nth_working_day_after(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th working day strictly after ``day`` (``n`` ≥ 1)."""
        day = as_day(day, "day")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a whole number of working days >= 1, got {n!r}")
        current, found = day, 0
        while found < n:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                found += 1
        return current

    def is_estimated(self, day: dt.date) -> bool:
        """True when ``day``'s year is only the library's estimate (no announced schedule known)."""
        day = as_day(day, "day")
        if day in self._forced_rest or day in self._forced_work:
            return False
        return self._year(day.year).estimated

    def calendar_note(self, day: dt.date) -> CalendarNote:
        """``"estimated"`` or ``"official"``, for UIs that show how sure a date is."""
        return "estimated" if self.is_estimated(day) else "official"


def _describe_years(years: frozenset[int]) -> str:
    if not years:
        return "no years"
    return f"{min(years)}-{max(years)}"


CalendarSource = Callable[[], PrcCalendar]

_source: CalendarSource | None = None
_calendar: PrcCalendar | None = None
_calendar_guard = threading.Lock()


def set_default_calendar(calendar: PrcCalendar | CalendarSource | None) -> None:
    """Register the process-wide calendar, or a function that builds it on first use.

    This package reads no file of the deployment: the caller registers its calendar once
    (:mod:`offboarding.policy` registers ``include/calendar/cn_overrides.yaml`` when it is imported).
    ``None`` goes back to the ``holidays`` package alone.
    """
    global _source, _calendar
    with _calendar_guard:
        if isinstance(calendar, PrcCalendar):
            _source, _calendar = None, calendar
        else:
            _source, _calendar = calendar, None


def default_calendar() -> PrcCalendar:
    """The process-wide calendar: the registered one, else the ``holidays`` package without overrides."""
    global _calendar
    found = _calendar
    if found is None:
        with _calendar_guard:
            found = _calendar
            if found is None:
                found = _calendar = _source() if _source is not None else PrcCalendar()
    return found


def reload_calendar() -> None:
    """Forget the built calendar so the registered source (the override file) is read again on next use."""
    global _calendar
    with _calendar_guard:
        if _source is not None:
            _calendar = None


def _chosen(calendar: PrcCalendar | None) -> PrcCalendar:
    return calendar if calendar is not None else default_calendar()


def is_working_day(day: dt.date, *, calendar: PrcCalendar | None = None) -> bool:
    """True on a PRC working day: weekdays except holidays and bridged days off, plus make-up days (调休).

    ``calendar`` defaults to :func:`default_calendar`.
    """
    return _chosen(calendar).is_working_day(day)


def nth_working_day_after(day: dt.date, n: int, *, calendar: PrcCalendar | None = None) -> dt.date:
    """The ``n``-th PRC working day strictly after ``day`` (``n`` ≥ 1, else ValueError)."""
    return _chosen(calendar).nth_working_day_after(day, n)


def is_estimated(day: dt.date, *, calendar: PrcCalendar | None = None) -> bool:
    """True when the calendar of ``day``'s year is the library's estimate, not an announced schedule."""
    return _chosen(calendar).is_estimated(day)


def calendar_note(day: dt.date, *, calendar: PrcCalendar | None = None) -> CalendarNote:
    """``"estimated"`` or ``"official"`` for ``day``, for UIs."""
    return _chosen(calendar).calendar_note(day)
