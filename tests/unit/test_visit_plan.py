"""The visit plan (VIS-01): how many visits, on which working days, and its iCalendar file."""

from __future__ import annotations

import datetime
import itertools

import icalendar
import pytest
from ansible.module_utils.preventcare_calendar import (
    PlanError,
    contract_year,
    is_working_day,
    next_visit,
    visit_ics,
    visit_plan,
)

NOW = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)


def _dates(plan):
    return [v["date"] for v in plan["visits"]]


@pytest.mark.req("VIS-01")
@pytest.mark.parametrize(("servers", "visits"), [(1, 2), (2, 3), (3, 4), (5, 6)])
def test_two_visits_a_year_plus_one_per_server_beyond_the_first(servers, visits):
    plan = visit_plan(servers, "2026-01-05", "2026-01-05")
    assert len(plan["visits"]) == visits
    assert [v["number"] for v in plan["visits"]] == list(range(1, visits + 1))


@pytest.mark.req("VIS-01")
def test_visits_are_spread_over_the_contract_year_in_order():
    plan = visit_plan(3, "2026-03-01", "2026-03-10")
    assert (plan["year_start"], plan["year_end"]) == ("2026-03-01", "2027-02-28")
    days = [datetime.date.fromisoformat(d) for d in _dates(plan)]
    assert days == sorted(days)
    assert all(datetime.date(2026, 3, 1) <= d <= datetime.date(2027, 2, 28) for d in days)
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    # 365 / 4 = 91 days apart, give or take the move to a working day
    assert all(85 <= gap <= 97 for gap in gaps), gaps


@pytest.mark.req("VIS-01")
def test_every_planned_day_is_a_working_day_over_many_contracts():
    for month in range(1, 13):
        for servers in (1, 2, 4, 7):
            plan = visit_plan(servers, f"2026-{month:02d}-15", f"2026-{month:02d}-15")
            for day in _dates(plan):
                date = datetime.date.fromisoformat(day)
                assert date.weekday() < 5, (month, servers, day)
                assert is_working_day(date), (month, servers, day)
            assert len(set(_dates(plan))) == len(plan["visits"])


@pytest.mark.req("VIS-01")
def test_a_visit_aimed_at_a_public_holiday_moves_to_the_next_working_day():
    # One server, two visits: visit 1 aims at start + floor(0.5 * 365 / 2) = start + 91 days,
    # so this start aims it exactly at Armistice Day, Wednesday 2026-11-11.
    start = datetime.date(2026, 11, 11) - datetime.timedelta(days=91)
    plan = visit_plan(1, start.isoformat(), start.isoformat())
    first = plan["visits"][0]
    assert first["target"] == "2026-11-11"
    assert first["date"] == "2026-11-12"  # Thursday
    assert first["moved_because"] == ["Armistice"]
    english = visit_plan(1, start.isoformat(), start.isoformat(), language="en")
    assert english["visits"][0]["moved_because"] == ["Armistice Day"]


@pytest.mark.req("VIS-01")
def test_easter_monday_and_whit_monday_are_not_working_days():
    # holidays.France lists both; Whit Monday stays a public holiday (Labour Code L3133-1)
    # even where a company makes it its "journée de solidarité": no visit is planned on it.
    assert not is_working_day("2027-03-29")  # Easter Monday 2027
    assert not is_working_day("2027-05-17")  # Whit Monday 2027
    assert not is_working_day("2026-05-25")  # Whit Monday 2026
    assert is_working_day("2027-03-30")
    start = datetime.date(2027, 5, 17) - datetime.timedelta(days=91)
    plan = visit_plan(1, start.isoformat(), start.isoformat())
    assert plan["visits"][0]["target"] == "2027-05-17"
    assert plan["visits"][0]["date"] == "2027-05-18"
    start = datetime.date(2027, 3, 29) - datetime.timedelta(days=91)
    plan = visit_plan(1, start.isoformat(), start.isoformat())
    assert plan["visits"][0]["date"] == "2027-03-30"


@pytest.mark.req("VIS-01")
def test_a_weekend_target_moves_to_monday_and_the_reason_is_kept():
    start = datetime.date(2026, 6, 6) - datetime.timedelta(days=91)  # Saturday 6 June 2026
    plan = visit_plan(1, start.isoformat(), start.isoformat())
    assert plan["visits"][0]["date"] == "2026-06-08"
    assert plan["visits"][0]["moved_because"] == ["weekend"]


def test_a_holiday_on_a_weekday_is_not_a_working_day_but_a_plain_weekday_is():
    assert not is_working_day("2026-07-14")  # Tuesday, national day
    assert not is_working_day("2026-12-05")  # Saturday
    assert is_working_day("2026-12-01")  # Tuesday


def test_the_contract_year_is_the_one_holding_the_set_up_day():
    assert contract_year("2025-02-10", "2026-12-01") == (
        datetime.date(2026, 2, 10),
        datetime.date(2027, 2, 10),
    )
    assert contract_year("2027-01-01", "2026-12-01")[0] == datetime.date(2027, 1, 1)
    assert contract_year(None, "2026-12-01")[0] == datetime.date(2026, 12, 1)
    assert contract_year("2024-02-29", "2025-03-01")[0] == datetime.date(2025, 2, 28)


def test_the_last_visit_never_leaves_the_contract_year():
    # A year ending on a weekend and holidays: Christmas, then a weekend to the year's end.
    plan = visit_plan(12, "2026-01-01", "2026-01-01")
    assert all(d <= plan["year_end"] for d in _dates(plan))


@pytest.mark.parametrize("servers", [0, -1, "2", True, None])
def test_a_wrong_server_count_is_refused_clearly(servers):
    with pytest.raises(PlanError, match="servers is"):
        visit_plan(servers, "2026-01-01", "2026-01-01")


def test_a_wrong_contract_start_is_refused_clearly():
    with pytest.raises(PlanError, match=r"client.contract_start is '2026-13-01'"):
        visit_plan(1, "2026-13-01", "2026-01-01")


@pytest.mark.req("VIS-01")
def test_the_ics_file_holds_one_all_day_event_per_visit_and_gives_the_next_visit():
    plan = visit_plan(2, "2026-01-05", "2026-12-01")
    text = visit_ics(
        plan,
        client_id="martin",
        client_name="Boulangeries Martin SARL",
        summary="Visite préventive {number}/{total}",
        description="Périmètre : srv-lin01, srv-lin02",
        generated_at=NOW,
    )
    calendar = icalendar.Calendar.from_ical(text)
    events = list(calendar.walk("VEVENT"))
    assert [e.decoded("dtstart").isoformat() for e in events] == _dates(plan)
    assert all(isinstance(e.decoded("dtstart"), datetime.date) for e in events)
    assert [str(e["summary"]) for e in events] == [f"Visite préventive {n}/3" for n in (1, 2, 3)]
    assert len({str(e["uid"]) for e in events}) == 3
    assert next_visit(text, "2026-01-05") == _dates(plan)[0]
    assert next_visit(text, _dates(plan)[-1]) == _dates(plan)[-1]
    assert next_visit(text, "2027-01-05") is None
