"""Unit tests for assessments.reminders.schedules (pure, no database).

Expected instants are worked out by hand from the 2026 transition rules:
US (America/New_York) springs forward 2026-03-08 02:00 EST -> 03:00 EDT and falls back
2026-11-01 02:00 EDT -> 01:00 EST; the EU (Europe/Berlin) springs forward 2026-03-29
02:00 CET -> 03:00 CEST and falls back 2026-10-25 03:00 CEST -> 02:00 CET;
Asia/Shanghai is UTC+8 all year.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.reminders.schedules import (
    DIAGNOSIS_KIND,
    PROTOCOLS,
    DueSlot,
    Protocol,
    ProtocolItem,
    apply_quiet_hours,
    consecutive_misses,
    due_slots,
    is_late,
    local_to_utc,
    merge_protocols,
    next_due_preview,
    protocol_for_diagnoses,
)
from config.timeutil import FUTURE_TOLERANCE, is_too_far_in_future

UTC = dt.UTC
NY = "America/New_York"
BERLIN = "Europe/Berlin"
SHANGHAI = "Asia/Shanghai"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def local(tz: str, *args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(tz), fold=fold)


def daily(at: dt.time = dt.time(9, 0)) -> Protocol:
    return Protocol("t", (ProtocolItem("nrs", every_days=1, local_time=at),))


# --- local_to_utc: the DST rules


@pytest.mark.parametrize(
    ("tz", "day", "at", "expected_utc", "expected_wall"),
    [
        # spring forward: 02:30 does not exist, pushed forward by the gap to 03:30
        (
            NY,
            dt.date(2026, 3, 8),
            dt.time(2, 30),
            utc(2026, 3, 8, 7, 30),
            dt.time(3, 30),
        ),
        (NY, dt.date(2026, 3, 8), dt.time(9, 0), utc(2026, 3, 8, 13, 0), dt.time(9, 0)),
        (
            BERLIN,
            dt.date(2026, 3, 29),
            dt.time(2, 30),
            utc(2026, 3, 29, 1, 30),
            dt.time(3, 30),
        ),
        (
            BERLIN,
            dt.date(2026, 3, 29),
            dt.time(9, 0),
            utc(2026, 3, 29, 7, 0),
            dt.time(9, 0),
        ),
        # fall back: ambiguous times take the first occurrence (the summer-time offset)
        (
            NY,
            dt.date(2026, 11, 1),
            dt.time(1, 30),
            utc(2026, 11, 1, 5, 30),
            dt.time(1, 30),
        ),
        (
            BERLIN,
            dt.date(2026, 10, 25),
            dt.time(2, 30),
            utc(2026, 10, 25, 0, 30),
            dt.time(2, 30),
        ),
        # US fall-back repeats 01:00-02:00, so 02:30 is unique (EST)
        (
            NY,
            dt.date(2026, 11, 1),
            dt.time(2, 30),
            utc(2026, 11, 1, 7, 30),
            dt.time(2, 30),
        ),
        (
            NY,
            dt.date(2026, 11, 1),
            dt.time(9, 0),
            utc(2026, 11, 1, 14, 0),
            dt.time(9, 0),
        ),
        (
            BERLIN,
            dt.date(2026, 10, 25),
            dt.time(9, 0),
            utc(2026, 10, 25, 8, 0),
            dt.time(9, 0),
        ),
        # no DST in China: same offset on the US and EU transition days
        (
            SHANGHAI,
            dt.date(2026, 3, 8),
            dt.time(2, 30),
            utc(2026, 3, 7, 18, 30),
            dt.time(2, 30),
        ),
        (
            SHANGHAI,
            dt.date(2026, 3, 29),
            dt.time(9, 0),
            utc(2026, 3, 29, 1, 0),
            dt.time(9, 0),
        ),
        (
            SHANGHAI,
            dt.date(2026, 10, 25),
            dt.time(2, 30),
            utc(2026, 10, 24, 18, 30),
            dt.time(2, 30),
        ),
        (
            SHANGHAI,
            dt.date(2026, 11, 1),
            dt.time(9, 0),
            utc(2026, 11, 1, 1, 0),
            dt.time(9, 0),
        ),
    ],
)
def test_local_to_utc_on_transition_days(tz, day, at, expected_utc, expected_wall):
    got = local_to_utc(day, at, tz)
    assert got == expected_utc
    assert got.utcoffset() == dt.timedelta(0)
    back = got.astimezone(ZoneInfo(tz))
    assert back.time() == expected_wall
    assert back.date() == day


def test_local_to_utc_rejects_bad_input():
    with pytest.raises(ValueError, match="time zone"):
        local_to_utc(dt.date(2026, 1, 1), dt.time(9), "Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="wall-clock"):
        local_to_utc(dt.date(2026, 1, 1), dt.time(9, tzinfo=UTC), NY)


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2026, 12, 31)),
    minutes=st.integers(min_value=0, max_value=24 * 60 - 1),
    tz=st.sampled_from([NY, BERLIN, SHANGHAI, "Australia/Lord_Howe", "Pacific/Chatham"]),
)
def test_local_to_utc_properties(day, minutes, tz):
    at = dt.time(minutes // 60, minutes % 60)
    zone = ZoneInfo(tz)
    naive = dt.datetime.combine(day, at)
    got = local_to_utc(day, at, tz)
    wall = got.astimezone(zone).replace(tzinfo=None)
    # Wall time is kept when it exists, otherwise pushed forward (never backwards).
    assert wall >= naive
    assert wall - naive < dt.timedelta(hours=2)
    # No earlier instant shows the same wall time (first occurrence of an overlap).
    for back in (dt.timedelta(minutes=30), dt.timedelta(hours=1)):
        assert (got - back).astimezone(zone).replace(tzinfo=None) != naive


# --- due_slots


def test_daily_0900_series_keeps_wall_time_across_berlin_spring_forward():
    slots = due_slots(
        daily(),
        start=dt.date(2026, 3, 1),
        tz=BERLIN,
        window_start=utc(2026, 3, 27),
        window_end=utc(2026, 4, 1),
    )
    assert [s.due_at for s in slots] == [
        utc(2026, 3, 27, 8),  # CET, UTC+1
        utc(2026, 3, 28, 8),
        utc(2026, 3, 29, 7),  # CEST, UTC+2 from the transition day on
        utc(2026, 3, 30, 7),
        utc(2026, 3, 31, 7),
    ]
    assert [s.local_date for s in slots] == [dt.date(2026, 3, d) for d in range(27, 32)]
    assert {s.due_at.astimezone(ZoneInfo(BERLIN)).time() for s in slots} == {dt.time(9)}


def test_daily_0900_series_keeps_wall_time_across_new_york_fall_back():
    slots = due_slots(
        daily(),
        start=dt.date(2026, 10, 1),
        tz=NY,
        window_start=utc(2026, 10, 30),
        window_end=utc(2026, 11, 3),
    )
    assert [s.due_at for s in slots] == [
        utc(2026, 10, 30, 13),  # EDT, UTC-4
        utc(2026, 10, 31, 13),
        utc(2026, 11, 1, 14),  # EST, UTC-5
        utc(2026, 11, 2, 14),
    ]
    assert {s.due_at.astimezone(ZoneInfo(NY)).time() for s in slots} == {dt.time(9)}


def test_0230_slot_on_spring_forward_day_moves_to_0330():
    slots = due_slots(
        daily(at=dt.time(2, 30)),
        start=dt.date(2026, 3, 1),
        tz=NY,
        window_start=utc(2026, 3, 7),
        window_end=utc(2026, 3, 10),
    )
    assert [(s.local_date, s.due_at) for s in slots] == [
        (dt.date(2026, 3, 7), utc(2026, 3, 7, 7, 30)),  # 02:30 EST
        (dt.date(2026, 3, 8), utc(2026, 3, 8, 7, 30)),  # 02:30 missing -> 03:30 EDT
        (dt.date(2026, 3, 9), utc(2026, 3, 9, 6, 30)),  # 02:30 EDT
    ]


def test_0230_slot_on_berlin_fall_back_day_uses_first_occurrence():
    slots = due_slots(
        daily(at=dt.time(2, 30)),
        start=dt.date(2026, 10, 1),
        tz=BERLIN,
        window_start=utc(2026, 10, 24),
        window_end=utc(2026, 10, 27),
    )
    assert [s.due_at for s in slots] == [
        utc(2026, 10, 24, 0, 30),  # CEST
        utc(2026, 10, 25, 0, 30),  # first 02:30 (CEST), not 01:30Z (CET)
        utc(2026, 10, 26, 1, 30),  # CET
    ]


def test_shanghai_series_has_constant_offset_over_eu_and_us_transitions():
    slots = due_slots(
        daily(at=dt.time(2, 30)),
        start=dt.date(2026, 3, 1),
        tz=SHANGHAI,
        window_start=utc(2026, 3, 7),
        window_end=utc(2026, 3, 31),
    )
    assert len(slots) == 24
    assert {s.due_at.time() for s in slots} == {dt.time(18, 30)}
    assert all(s.due_at.date() == s.local_date - dt.timedelta(days=1) for s in slots)


def test_window_is_real_elapsed_hours_across_dst():
    (slot,) = due_slots(
        daily(),
        start=dt.date(2026, 3, 1),
        tz=NY,
        window_start=local(NY, 2026, 3, 7, 8),
        window_end=local(NY, 2026, 3, 7, 10),
    )
    assert slot.due_at == utc(2026, 3, 7, 14)
    assert slot.closes_at == utc(2026, 3, 8, 14)  # 24 h later = 10:00 EDT wall time
    assert slot.closes_at.astimezone(ZoneInfo(NY)).time() == dt.time(10)


def test_window_is_half_open_and_starts_at_plan_start():
    start = dt.date(2026, 5, 10)
    slots = due_slots(
        daily(),
        start=start,
        tz=BERLIN,
        window_start=utc(2026, 5, 1),
        window_end=utc(2026, 5, 12, 7),  # exactly the 12th's due time: excluded
    )
    assert [s.local_date for s in slots] == [dt.date(2026, 5, 10), dt.date(2026, 5, 11)]
    included = due_slots(
        daily(),
        start=start,
        tz=BERLIN,
        window_start=utc(2026, 5, 12, 7),  # included
        window_end=utc(2026, 5, 12, 7, 1),
    )
    assert [s.local_date for s in included] == [dt.date(2026, 5, 12)]
    assert (
        due_slots(
            daily(),
            start=start,
            tz=BERLIN,
            window_start=utc(2026, 6, 1),
            window_end=utc(2026, 6, 1),
        )
        == []
    )


def test_late_evening_slot_whose_local_date_precedes_the_utc_date():
    # 23:30 EST on Mar 6 is 04:30Z on Mar 7: found from a window starting on Mar 7 UTC
    slots = due_slots(
        daily(at=dt.time(23, 30)),
        start=dt.date(2026, 3, 1),
        tz=NY,
        window_start=utc(2026, 3, 7, 1),
        window_end=utc(2026, 3, 7, 5),
    )
    assert [(s.local_date, s.due_at) for s in slots] == [(dt.date(2026, 3, 6), utc(2026, 3, 7, 4, 30))]


def test_clbp_protocol_over_four_weeks():
    start = dt.date(2026, 3, 2)
    slots = due_slots(
        PROTOCOLS["clbp"],
        start=start,
        tz=BERLIN,
        window_start=local_to_utc(start, dt.time(0), BERLIN),
        window_end=local_to_utc(start + dt.timedelta(days=28), dt.time(0), BERLIN),
    )
    by_instrument: dict[str, list[dt.date]] = {}
    for s in slots:
        by_instrument.setdefault(s.instrument, []).append(s.local_date)
    assert len(by_instrument["nrs"]) == 28
    expected = [start, start + dt.timedelta(days=14)]
    assert by_instrument["odi"] == expected
    assert by_instrument["phq9"] == expected
    assert by_instrument["gad7"] == expected
    assert "dn4" not in by_instrument
    odi = next(s for s in slots if s.instrument == "odi")
    assert odi.closes_at - odi.due_at == dt.timedelta(hours=72)
    # sorted by due time then instrument: day 0 at 09:00 = gad7, nrs, odi, phq9
    assert [s.instrument for s in slots[:4]] == ["gad7", "nrs", "odi", "phq9"]


def test_neuropathic_dn4_at_baseline_then_every_28_days():
    start = dt.date(2026, 1, 5)
    slots = due_slots(
        PROTOCOLS["neuropathic"],
        start=start,
        tz=SHANGHAI,
        window_start=utc(2025, 12, 1),
        window_end=utc(2026, 4, 1),
    )
    dn4 = [s.local_date for s in slots if s.instrument == "dn4"]
    assert dn4 == [start + dt.timedelta(days=k) for k in (0, 28, 56, 84)]
    phq9 = [s.local_date for s in slots if s.instrument == "phq9"]
    assert phq9 == dn4


def test_at_baseline_false_and_once_and_offset_items():
    start = dt.date(2026, 6, 1)
    protocol = Protocol(
        "p",
        (
            ProtocolItem("odi", every_days=14, at_baseline=False),
            ProtocolItem("dn4", every_days=None, start_offset_days=3),
            ProtocolItem("phq9", every_days=7, start_offset_days=2, local_time=dt.time(18)),
        ),
    )
    slots = due_slots(
        protocol,
        start=start,
        tz=NY,
        window_start=utc(2026, 5, 1),
        window_end=utc(2026, 7, 1),
    )
    got = [(s.instrument, s.local_date.day) for s in slots]
    assert [d for i, d in got if i == "odi"] == [15, 29]
    assert [d for i, d in got if i == "dn4"] == [4]
    assert [d for i, d in got if i == "phq9"] == [3, 10, 17, 24]
    assert next(s for s in slots if s.instrument == "phq9").due_at == utc(2026, 6, 3, 22)


def test_due_slots_rejects_naive_window():
    with pytest.raises(ValueError, match="aware"):
        due_slots(
            daily(),
            start=dt.date(2026, 1, 1),
            tz=NY,
            window_start=dt.datetime(2026, 1, 1),
            window_end=utc(2026, 1, 2),
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"every_days": 0}, "every_days"),
        ({"every_days": None, "at_baseline": False}, "once-only"),
        ({"every_days": 1, "start_offset_days": -1}, "start_offset"),
        ({"every_days": 1, "window_hours": 0}, "window_hours"),
    ],
)
def test_protocol_item_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ProtocolItem("nrs", **kwargs)


def test_protocol_rejects_duplicate_instrument():
    with pytest.raises(ValueError, match="duplicate"):
        Protocol("p", (ProtocolItem("nrs", 1), ProtocolItem("nrs", 2)))


# --- next_due_preview


def test_next_due_preview_from_mid_plan():
    start = dt.date(2026, 3, 1)
    now = utc(2026, 3, 15, 9)  # 10:00 Berlin on day 14: today's slots already due
    got = next_due_preview(PROTOCOLS["clbp"], start=start, tz=BERLIN, now=now, count=5)
    assert [(s.instrument, s.local_date) for s in got] == [
        ("nrs", dt.date(2026, 3, 16)),
        ("nrs", dt.date(2026, 3, 17)),
        ("nrs", dt.date(2026, 3, 18)),
        ("nrs", dt.date(2026, 3, 19)),
        ("nrs", dt.date(2026, 3, 20)),
    ]
    just_before = next_due_preview(PROTOCOLS["clbp"], start=start, tz=BERLIN, now=utc(2026, 3, 15, 8), count=5)
    assert [s.instrument for s in just_before] == ["gad7", "nrs", "odi", "phq9", "nrs"]
    assert all(s.due_at >= utc(2026, 3, 15, 8) for s in just_before)


def test_next_due_preview_before_plan_start_and_sparse_protocols():
    start = dt.date(2026, 9, 1)
    protocol = Protocol("p", (ProtocolItem("dn4", every_days=28),))
    got = next_due_preview(protocol, start=start, tz=NY, now=utc(2026, 1, 1), count=3)
    assert [s.local_date for s in got] == [
        dt.date(2026, 9, 1),
        dt.date(2026, 9, 29),
        dt.date(2026, 10, 27),
    ]
    once = Protocol("o", (ProtocolItem("dn4", every_days=None, start_offset_days=10),))
    got = next_due_preview(once, start=start, tz=NY, now=utc(2026, 1, 1), count=3)
    assert [s.local_date for s in got] == [dt.date(2026, 9, 11)]
    assert next_due_preview(once, start=start, tz=NY, now=utc(2026, 12, 1)) == []
    assert next_due_preview(protocol, start=start, tz=NY, now=utc(2026, 1, 1), count=0) == []


# --- protocol choice


def test_protocol_for_single_kind_diagnoses():
    assert protocol_for_diagnoses(["clbp"]) == PROTOCOLS["clbp"]
    assert protocol_for_diagnoses(["lumbar_radiculopathy"]) == PROTOCOLS["clbp"]
    assert protocol_for_diagnoses(["crps", "dpn"]) == PROTOCOLS["neuropathic"]
    neuropathic = [c for c, kind in DIAGNOSIS_KIND.items() if kind == "neuropathic"]
    assert len(neuropathic) == 11
    for code in neuropathic:
        assert protocol_for_diagnoses([code]).code == "neuropathic"


def test_protocol_for_both_kinds_is_merged_with_shortest_interval():
    merged = protocol_for_diagnoses(["lumbar_radiculopathy", "peroneal_entrapment"])
    assert merged.code == "clbp+neuropathic"
    intervals = {i.instrument: i.every_days for i in merged.items}
    assert intervals == {"nrs": 1, "odi": 14, "phq9": 14, "gad7": 14, "dn4": 28}
    assert merged == protocol_for_diagnoses(["peroneal_entrapment", "clbp"])
    assert all(i.at_baseline for i in merged.items)
    phq9 = merged.item("phq9")
    assert phq9 is not None
    assert phq9.window_hours == 72


def test_merge_keeps_baseline_if_any_protocol_has_it():
    a = Protocol("a", (ProtocolItem("odi", every_days=14, at_baseline=False),))
    b = Protocol("b", (ProtocolItem("odi", every_days=28), ProtocolItem("dn4", None)))
    merged = merge_protocols([a, b])
    odi = merged.item("odi")
    assert odi is not None
    assert (odi.every_days, odi.at_baseline) == (14, True)
    assert [i.instrument for i in merged.items] == ["odi", "dn4"]
    reversed_odi = merge_protocols([b, a]).item("odi")
    assert reversed_odi is not None
    assert (reversed_odi.every_days, reversed_odi.at_baseline) == (14, True)
    # a periodic item beats a once-only one
    c = Protocol("c", (ProtocolItem("dn4", every_days=28),))
    dn4 = merge_protocols([b, c]).item("dn4")
    assert dn4 is not None
    assert dn4.every_days == 28


def test_protocol_for_diagnoses_rejects_unknown_and_empty():
    with pytest.raises(ValueError, match="unknown diagnosis codes: migraine"):
        protocol_for_diagnoses(["clbp", "migraine"])
    with pytest.raises(ValueError, match="at least one"):
        protocol_for_diagnoses([])
    with pytest.raises(TypeError):
        protocol_for_diagnoses("clbp")


# --- quiet hours

QUIET = (dt.time(22), dt.time(7))


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (local(BERLIN, 2026, 6, 10, 23, 30), local(BERLIN, 2026, 6, 11, 7)),  # evening
        (
            local(BERLIN, 2026, 6, 10, 22, 0),
            local(BERLIN, 2026, 6, 11, 7),
        ),  # start: quiet
        (local(BERLIN, 2026, 6, 10, 0, 0), local(BERLIN, 2026, 6, 10, 7)),  # midnight
        (local(BERLIN, 2026, 6, 10, 6, 59), local(BERLIN, 2026, 6, 10, 7)),  # morning
        (
            local(BERLIN, 2026, 6, 10, 7, 0),
            local(BERLIN, 2026, 6, 10, 7),
        ),  # end: not quiet
        (local(BERLIN, 2026, 6, 10, 12, 0), local(BERLIN, 2026, 6, 10, 12)),
        (local(BERLIN, 2026, 6, 10, 21, 59), local(BERLIN, 2026, 6, 10, 21, 59)),
        (local(BERLIN, 2026, 12, 31, 23, 0), local(BERLIN, 2027, 1, 1, 7)),  # year end
    ],
)
def test_quiet_hours_wrapping_midnight(when, expected):
    got = apply_quiet_hours(when, BERLIN, *QUIET)
    assert got == expected
    assert got.tzinfo is UTC


def test_quiet_hours_use_patient_zone_not_input_offset():
    # 21:30 UTC is 05:30 next morning in Shanghai: quiet until 07:00 there (23:00 UTC)
    assert apply_quiet_hours(utc(2026, 6, 10, 21, 30), SHANGHAI, *QUIET) == utc(2026, 6, 10, 23)
    # the same instant is 23:30 in Berlin: quiet until 07:00 CEST next day
    assert apply_quiet_hours(utc(2026, 6, 10, 21, 30), BERLIN, *QUIET) == utc(2026, 6, 11, 5)


def test_quiet_hours_non_wrapping_and_empty():
    siesta = (dt.time(13), dt.time(15))
    assert apply_quiet_hours(local(BERLIN, 2026, 6, 10, 14), BERLIN, *siesta) == local(BERLIN, 2026, 6, 10, 15)
    assert apply_quiet_hours(local(BERLIN, 2026, 6, 10, 23), BERLIN, *siesta) == local(BERLIN, 2026, 6, 10, 23)
    empty = (dt.time(8), dt.time(8))
    assert apply_quiet_hours(local(BERLIN, 2026, 6, 10, 8), BERLIN, *empty) == utc(2026, 6, 10, 6)


def test_quiet_hours_end_across_spring_forward():
    # 23:00 EST on Mar 7 -> 07:00 EDT on Mar 8, which is 11:00Z (not 12:00Z)
    assert apply_quiet_hours(local(NY, 2026, 3, 7, 23), NY, *QUIET) == utc(2026, 3, 8, 11)
    # quiet hours ending in the gap end at the pushed-forward instant (03:30 EDT)
    got = apply_quiet_hours(local(NY, 2026, 3, 8, 1, 30), NY, dt.time(1), dt.time(2, 30))
    assert got == utc(2026, 3, 8, 7, 30)


def test_quiet_hours_end_in_repeated_hour_is_never_before_when():
    quiet = (dt.time(0), dt.time(1, 30))
    first = local(NY, 2026, 11, 1, 1, 15, fold=0)  # 01:15 EDT = 05:15Z
    second = local(NY, 2026, 11, 1, 1, 15, fold=1)  # 01:15 EST = 06:15Z
    assert second.astimezone(UTC) == utc(2026, 11, 1, 6, 15)
    assert apply_quiet_hours(first, NY, *quiet) == utc(2026, 11, 1, 5, 30)
    assert apply_quiet_hours(second, NY, *quiet) == utc(2026, 11, 1, 6, 30)


def test_quiet_hours_reject_naive():
    with pytest.raises(ValueError, match="aware"):
        apply_quiet_hours(dt.datetime(2026, 6, 10, 23), BERLIN, *QUIET)


# --- misses, lateness, future


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], 0),
        (["completed"], 0),
        (["missed"], 1),
        (["completed", "missed", "missed"], 2),
        (["missed", "completed", "missed", "missed", "missed"], 3),
        (["missed", "missed", "pending"], 2),
        (["missed", "pending", "missed"], 2),
        (["missed", "completed", "pending"], 0),
        (["pending", "pending"], 0),
        (["missed", "late"], 0),
    ],
)
def test_consecutive_misses(statuses, expected):
    assert consecutive_misses(statuses) == expected


def test_is_late_boundaries():
    recorded = utc(2026, 3, 8, 12)
    assert not is_late(recorded, recorded + dt.timedelta(hours=24))
    assert is_late(recorded, recorded + dt.timedelta(hours=24, seconds=1))
    assert not is_late(recorded, recorded - dt.timedelta(hours=1))
    assert is_late(recorded, recorded + dt.timedelta(hours=2), grace=dt.timedelta(hours=1))
    # offsets do not matter, instants do
    assert not is_late(local(NY, 2026, 3, 8, 8), utc(2026, 3, 9, 12))
    assert is_late(local(NY, 2026, 3, 8, 8), utc(2026, 3, 9, 12, 1))
    with pytest.raises(ValueError, match="aware"):
        is_late(dt.datetime(2026, 3, 8), recorded)


def test_is_too_far_in_future():
    now = utc(2026, 3, 8, 12)
    assert dt.timedelta(minutes=5) == FUTURE_TOLERANCE
    assert not is_too_far_in_future(now + FUTURE_TOLERANCE, now)
    assert is_too_far_in_future(now + FUTURE_TOLERANCE + dt.timedelta(seconds=1), now)
    assert not is_too_far_in_future(now - dt.timedelta(days=30), now)
    assert is_too_far_in_future(local(SHANGHAI, 2026, 3, 8, 20, 6), now)
    with pytest.raises(ValueError, match="aware"):
        is_too_far_in_future(utc(2026, 3, 8), dt.datetime(2026, 3, 8))


def test_due_slot_is_hashable_value():
    a = DueSlot("nrs", utc(2026, 1, 1, 8), utc(2026, 1, 2, 8), dt.date(2026, 1, 1))
    b = DueSlot("nrs", utc(2026, 1, 1, 8), utc(2026, 1, 2, 8), dt.date(2026, 1, 1))
    assert a == b
    assert len({a, b}) == 1


@settings(max_examples=40, deadline=None)
@given(
    start=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31)),
    tz=st.sampled_from([NY, BERLIN, SHANGHAI, "Australia/Sydney", "America/Santiago"]),
    hour=st.integers(min_value=0, max_value=23),
)
def test_daily_year_has_one_slot_per_local_day(start, tz, hour):
    at = dt.time(hour, 30)
    slots = due_slots(
        daily(at=at),
        start=start,
        tz=tz,
        window_start=local_to_utc(start, dt.time(0), tz),
        window_end=local_to_utc(start + dt.timedelta(days=365), dt.time(0), tz),
    )
    assert [s.local_date for s in slots] == [start + dt.timedelta(days=k) for k in range(365)]
    zone = ZoneInfo(tz)
    for s in slots:
        wall = s.due_at.astimezone(zone)
        if wall.date() == s.local_date and wall.time() == at:
            continue
        # only a nonexistent wall time may move, and only forward to within 2 h
        pushed = wall.replace(tzinfo=None) - dt.datetime.combine(s.local_date, at)
        assert dt.timedelta(0) < pushed <= dt.timedelta(hours=2)
        assert local_to_utc(s.local_date, at, tz) == s.due_at
