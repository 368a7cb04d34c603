"""Reading a holiday calendar (iCalendar, RFC 5545) into closed dates.

What counts: whole-day events (``DTSTART;VALUE=DATE``), each date from ``DTSTART`` up to
``DTEND`` exclusive (or ``DURATION``; one day without either), repeated by a daily, weekly,
monthly or yearly ``RRULE`` and ``RDATE`` dates, less ``EXDATE`` dates and the instances a
``RECURRENCE-ID`` event replaces; cancelled events are left out. Timed events are skipped: a
public-holiday feed lists whole days, and an event with a clock time is an appointment, not a
closure (special hours are set by hand). Only the dates between ``first`` and ``last`` are
returned, so a rule repeating forever costs the window's length at most.

The body is untrusted: whatever the parser raises on it becomes ``CalendarUnreadable`` with a
sentence a person can act on, and one event the reader does not understand is skipped, never
the whole calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import icalendar
from dateutil.rrule import rrulestr

REPEATS = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
NAME_LENGTH = 200
# A rule whose first date is this far before the window is not a holiday calendar's: expanding
# it from there would cost more than it could be worth.
OLDEST_START = timedelta(days=366 * 200)


class CalendarUnreadable(Exception):
    """The body is not an iCalendar file."""


def _parse(body: bytes) -> icalendar.Component:
    try:
        calendar = icalendar.Calendar.from_ical(body)
    except Exception as exc:  # a third-party parser over untrusted bytes may raise anything
        raise CalendarUnreadable("The file is not an iCalendar (.ics) calendar.") from exc
    if not isinstance(calendar, icalendar.Component) or calendar.name != "VCALENDAR":
        raise CalendarUnreadable("The file is not an iCalendar (.ics) calendar.")
    return calendar


def _whole_day(value: Any) -> date | None:
    """The date of a DATE value; None for a date-time (a timed event) or anything else."""
    day = getattr(value, "dt", None)
    if isinstance(day, datetime) or not isinstance(day, date):
        return None
    return day


def _length(event: icalendar.Component, start: date) -> int:
    """Days the event covers (DTEND is exclusive); at least one."""
    end = _whole_day(event.get("DTEND"))
    if end is not None:
        return max((end - start).days, 1)
    duration = getattr(event.get("DURATION"), "dt", None)
    if isinstance(duration, timedelta):
        return max(duration.days, 1)
    return 1


def _dates_of(prop: Any) -> set[date]:
    """The dates of an EXDATE / RDATE / RECURRENCE-ID property (one or a list of them)."""
    found: set[date] = set()
    for item in prop if isinstance(prop, list) else [prop]:
        values = getattr(item, "dts", None) or [item]
        for value in values:
            moment = getattr(value, "dt", None)
            if isinstance(moment, datetime):
                found.add(moment.date())
            elif isinstance(moment, date):
                found.add(moment)
    return found


def _rule_text(rule: Any) -> str | None:
    """The RRULE as dateutil reads it, with UNTIL as a date (the rule repeats whole days); None
    when it repeats by hours or less, or cannot be read."""
    try:
        frequency = [str(value).upper() for value in rule.get("FREQ", [])]
        if not frequency or frequency[0] not in REPEATS:
            return None
        until = rule.get("UNTIL")
        if until:
            moment = until[0]
            day = moment.date() if isinstance(moment, datetime) else moment
            rule = icalendar.vRecur({**rule, "UNTIL": [day]})
        return str(rule.to_ical().decode())
    except (AttributeError, TypeError, ValueError):
        return None


def _starts(event: icalendar.Component, start: date, window: tuple[date, date]) -> set[date]:
    """The dates each occurrence of the event starts on, near the window."""
    first, last = window
    starts = {start} | _dates_of(event.get("RDATE", []))
    rule = event.get("RRULE")
    if rule is not None:
        text = _rule_text(rule)
        if text is None or start < first - OLDEST_START:
            return set()
        try:
            rules = rrulestr(text, dtstart=datetime.combine(start, time.min))
            occurrences = rules.between(
                datetime.combine(first - timedelta(days=366), time.min),
                datetime.combine(last, time.min),
                inc=True,
            )
        except (ValueError, TypeError, OverflowError):
            return set()
        starts |= {moment.date() for moment in occurrences}
    return starts - _dates_of(event.get("EXDATE", []))


def _replaced(events: Iterable[icalendar.Component]) -> dict[str, set[date]]:
    """Per UID, the instances another event (its RECURRENCE-ID) replaces or cancels."""
    replaced: dict[str, set[date]] = {}
    for event in events:
        if event.get("RECURRENCE-ID") is not None:
            uid = str(event.get("UID", ""))
            replaced.setdefault(uid, set()).update(_dates_of(event.get("RECURRENCE-ID")))
    return replaced


def _days(event: icalendar.Component, window: tuple[date, date], skip: set[date]) -> Iterator[date]:
    start = _whole_day(event.get("DTSTART"))
    if start is None or str(event.get("STATUS", "")).upper() == "CANCELLED":
        return
    length = _length(event, start)
    starts = _starts(event, start, window) if event.get("RECURRENCE-ID") is None else {start}
    first, last = window
    for begin in sorted(starts - skip):
        day = max(begin, first)
        while day <= min(begin + timedelta(days=length - 1), last):
            yield day
            day += timedelta(days=1)


def holidays_in(body: bytes, *, first: date, last: date) -> dict[date, str]:
    """The whole-day dates of the calendar between ``first`` and ``last`` (inclusive), each with
    the names of its events."""
    events = list(_parse(body).walk("VEVENT"))
    replaced = _replaced(events)
    names: dict[date, list[str]] = {}
    for event in events:
        uid = str(event.get("UID", ""))
        skip = set() if event.get("RECURRENCE-ID") else replaced.get(uid, set())
        name = " ".join(str(event.get("SUMMARY", "")).split())
        for day in _days(event, (first, last), skip):
            on_day = names.setdefault(day, [])
            if name and name not in on_day:
                on_day.append(name)
    return {day: ", ".join(found)[:NAME_LENGTH] for day, found in sorted(names.items())}
