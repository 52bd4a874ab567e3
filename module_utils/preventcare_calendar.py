"""The visit cadence (VIS-01) and the visit plan of a contract year.

The booklet: two visits a year, plus one per server (physical or virtual) beyond the first.
The visit plan (set-up day) and the site's metric retention (it must cover the time between
two visits) both derive from this one rule.

A visit falls on a working day, as the booklet defines one ("Jour ouvré : un jour compris
entre le lundi et le vendredi et qui n'est pas un jour férié en France"): Monday to Friday,
not a public holiday of metropolitan France as the maintained `holidays` package lists them
(`holidays.France()` without a subdivision: no Alsace-Moselle Good Friday or St Stephen's
Day). Easter Monday and Whit Monday come from that list: `holidays` (0.109 here) returns
"Pentecost Monday" for every year, and it stays a non-working day for the plan. Since 2008
Whit Monday is often the employer's "journée de solidarité", but it is still a public holiday
in the Labour Code's list (art. L3133-1) and which day a company works for solidarity is its
own choice, so a visit is never planned on it.

Controller-side only: `holidays` and `icalendar` are imported when a plan is made, so that a
module shipped to a host that imports this file does not need them.
"""

from __future__ import annotations

import datetime
import math

YEAR_DAYS = 365


def visits_per_year(servers):
    """2 visits a year plus one per server beyond the first."""
    return 2 + max(int(servers) - 1, 0)


def days_between_visits(servers):
    """The longest expected gap between two visits, in whole days."""
    return math.ceil(YEAR_DAYS / visits_per_year(servers))


class PlanError(ValueError):
    """Bad input to the visit plan; the message says what to give."""


def _date(value, what):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise PlanError(f"{what} is {value!r}: expected a date YYYY-MM-DD") from None


def _anniversary(start, years):
    """start + years, 29 February landing on 28 February in a common year."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


# The contract's languages, as the holidays package names them.
_HOLIDAY_LANGUAGES = {"fr": "fr", "en": "en_US"}


def french_holidays(years, language="fr"):
    """{date: name} of metropolitan France's public holidays for those years."""
    import holidays  # noqa: PLC0415 - controller-side only (see the module's docstring)

    chosen = _HOLIDAY_LANGUAGES.get(language, "fr")
    return dict(holidays.France(years=sorted(set(years)), language=chosen))


def is_working_day(day, public_holidays=None):
    """Monday to Friday and not a public holiday in metropolitan France (booklet, "Jour ouvré")."""
    day = _date(day, "day")
    known = french_holidays([day.year]) if public_holidays is None else public_holidays
    return day.weekday() < 5 and day not in known


def contract_year(contract_start, today):
    """(first day, first day of the next year) of the contract year holding `today`.

    Before the contract starts, its first year. `contract_start` absent: the year starting
    `today` (the set-up day)."""
    today = _date(today, "today")
    start = _date(contract_start, "client.contract_start") if contract_start else today
    years = 0
    while _anniversary(start, years + 1) <= today:
        years += 1
    return _anniversary(start, years), _anniversary(start, years + 1)


def visit_plan(servers, contract_start, today, language="fr"):
    """The visits of the contract year holding `today`, spread evenly over it.

    Visit k of n aims at the middle of the k-th n-th of the year; when that day is not a
    working day the visit moves to the next one (to the previous one at the year's end).
    Returns {"year_start", "year_end" (last day), "visits": [{"number", "date", "target",
    "moved_because"}]}, dates as YYYY-MM-DD; moved_because lists "weekend" and the holiday's
    name in the contract's language.
    """
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 1:
        raise PlanError(f"servers is {servers!r}: expected the number of servers, at least 1")
    first, after = contract_year(contract_start, today)
    last = after - datetime.timedelta(days=1)
    known = french_holidays(range(first.year, after.year + 1), language)
    count = visits_per_year(servers)
    length = (after - first).days
    visits, taken = [], set()
    for number in range(1, count + 1):
        target = first + datetime.timedelta(days=math.floor((number - 0.5) * length / count))
        day, step = target, datetime.timedelta(days=1)
        while not is_working_day(day, known) or day in taken:
            day += step
            if day > last:  # never past the year's end: look back from the target instead
                day, step = target, -step
        reasons = []
        if target.weekday() >= 5:
            reasons.append("weekend")
        if target in known:
            reasons.append(known[target])
        visits.append(
            {
                "number": number,
                "date": day.isoformat(),
                "target": target.isoformat(),
                "moved_because": reasons,
            }
        )
        taken.add(day)
    return {"year_start": first.isoformat(), "year_end": last.isoformat(), "visits": visits}


def visit_ics(plan, *, client_id, client_name, summary, description, generated_at):
    """The plan as an iCalendar (RFC 5545) text: one all-day VEVENT per visit.

    Each visit's UID is stable for a client, a contract year and a visit number, so that a
    calendar that imports the file again updates the event rather than doubling it.
    """
    import icalendar  # noqa: PLC0415 - controller-side only (see the module's docstring)

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//PreventCare//visit plan//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{client_name} - PreventCare")
    total = len(plan["visits"])
    for visit in plan["visits"]:
        day = datetime.date.fromisoformat(visit["date"])
        event = icalendar.Event()
        event.add("uid", f"{client_id}-{plan['year_start']}-visit-{visit['number']}@preventcare")
        event.add("dtstamp", generated_at)
        event.add("dtstart", day)
        event.add("dtend", day + datetime.timedelta(days=1))
        event.add("summary", summary.format(number=visit["number"], total=total))
        event.add("description", description)
        event.add("categories", ["PreventCare", "VIS-01"])
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


def next_visit(ics_text, today):
    """The first visit date on or after `today` in a visit-plan.ics text, or None."""
    import icalendar  # noqa: PLC0415 - controller-side only

    today = _date(today, "today")
    dates = []
    for event in icalendar.Calendar.from_ical(ics_text).walk("VEVENT"):
        start = event.decoded("dtstart")
        start = start.date() if isinstance(start, datetime.datetime) else start
        if start >= today:
            dates.append(start)
    return min(dates).isoformat() if dates else None
