"""Figure builders of the therapist console: pure functions, no database (none is allowed here)."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from assessments.instruments import GAD7, ODI, PHQ9
from frontend import charts

DAY0 = dt.date(2024, 1, 1)


def _days(n: int, start: dt.date = DAY0) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


def _bands(instrument):
    return [charts.Band(b.low, b.high, b.label.en) for b in instrument.bands]


def _hlines(fig):
    return sorted(s["y0"] for s in fig["layout"]["shapes"] if s["type"] == "line" and s.get("xref") == "paper")


def two_year_diary(seed: int = 7) -> list[tuple[dt.date, float]]:
    """730 days of 0-10 scores, a few days missed, some days with two entries."""
    rng = random.Random(seed)
    entries = []
    for day in _days(730):
        if rng.random() < 0.05:
            continue
        entries.append((day, rng.randint(0, 10)))
        if rng.random() < 0.1:
            entries.append((day, rng.randint(0, 10)))
    return entries


# --- size -------------------------------------------------------------------------------


def test_two_year_daily_nrs_figure_is_at_most_8_kb():
    entries = two_year_diary()
    fig = charts.nrs_figure(entries, baseline=6.4)
    size = len(json.dumps(fig))
    assert size <= 8 * 1024, size
    # Compact date encoding: the daily series is one y array on x0/dx, not 730 date strings.
    daily = fig["data"][0]
    assert "x" not in daily
    assert daily["x0"] == "2024-01-01"
    assert daily["dx"] == charts.DAY_MS
    assert len(daily["y"]) == 730
    assert "template" not in fig["layout"]


def test_two_year_nrs_with_plan_versions_and_a_course_of_sessions_is_at_most_8_kb():
    entries = two_year_diary(seed=3)
    versions = [
        (DAY0, "v1"),
        (DAY0 + dt.timedelta(days=120), "v2"),
        (DAY0 + dt.timedelta(days=400), "v3"),
    ]
    sessions = [(DAY0 + dt.timedelta(days=2 * i), "tDCS" if i % 2 else "Exercise") for i in range(36)]
    fig = charts.nrs_figure(entries, baseline=6.4, plan_versions=versions, sessions=sessions)
    assert len(json.dumps(fig)) <= 8 * 1024, len(json.dumps(fig))
    # and what is actually sent (no spaces after separators) is smaller still
    assert len(charts.figure_json(fig)) < len(json.dumps(fig))


def test_two_years_of_twice_weekly_sessions_become_weekly_counts_within_8_kb():
    entries = two_year_diary(seed=5)
    sessions = [(DAY0 + dt.timedelta(days=d), "tDCS") for d in range(0, 728, 7)]
    sessions += [(DAY0 + dt.timedelta(days=d + 3), "Exercise") for d in range(0, 728, 7)]
    versions = [(DAY0, "v1"), (DAY0 + dt.timedelta(days=200), "v2")]
    fig = charts.nrs_figure(entries, baseline=6.4, plan_versions=versions, sessions=sessions)
    assert len(json.dumps(fig)) <= 8 * 1024, len(json.dumps(fig))
    weekly = fig["data"][-1]
    assert weekly["type"] == "bar"
    assert weekly["name"] == "Sessions / week"
    assert len(weekly["y"]) == 104
    assert sum(weekly["y"]) == len(sessions)
    assert set(weekly["y"]) == {2}


# --- NRS ----------------------------------------------------------------------------------


def test_nrs_reduction_lines_sit_at_70_and_50_percent_of_baseline():
    fig = charts.nrs_figure([(d, 6) for d in _days(10)], baseline=6.0)
    assert _hlines(fig) == [3, 4.2, 6]
    texts = [a["text"] for a in fig["layout"]["annotations"]]
    assert "Baseline 6" in texts
    assert "\u221230 %" in texts
    assert "\u221250 %" in texts


def test_nrs_without_baseline_has_no_reduction_lines():
    fig = charts.nrs_figure([(d, 6) for d in _days(10)], baseline=None)
    assert _hlines(fig) == []


def test_nrs_daily_values_are_placed_on_their_day_with_gaps_as_null():
    entries = [(DAY0, 4), (DAY0, 6), (DAY0 + dt.timedelta(days=3), 7)]
    fig = charts.nrs_figure(entries, baseline=None)
    assert fig["data"][0]["y"] == [
        5,
        None,
        None,
        7,
    ]  # the mean of the day's two entries


def test_nrs_plan_versions_and_sessions_are_marked():
    versions = [(DAY0 + dt.timedelta(days=5), "v2")]
    sessions = [
        (DAY0 + dt.timedelta(days=1), "tDCS"),
        (DAY0 + dt.timedelta(days=2), "tDCS"),
        (DAY0 + dt.timedelta(days=2), "rTMS"),
    ]
    fig = charts.nrs_figure(
        [(d, 5) for d in _days(10)],
        baseline=5,
        plan_versions=versions,
        sessions=sessions,
    )
    vertical = [s for s in fig["layout"]["shapes"] if s.get("yref") == "paper"]
    assert [(s["x0"], s["x1"]) for s in vertical] == [("2024-01-06", "2024-01-06")]
    assert any(a["text"] == "v2" for a in fig["layout"]["annotations"])
    session_traces = {t["name"]: t["x"] for t in fig["data"] if t.get("yaxis") == "y2"}
    assert session_traces == {
        "tDCS": ["2024-01-02", "2024-01-03"],
        "rTMS": ["2024-01-03"],
    }


def test_rolling_mean_is_trailing_seven_calendar_days_and_needs_three_entries():
    daily = [(DAY0 + dt.timedelta(days=i), float(v)) for i, v in enumerate([1, 2, 3, 4, 5, 6, 7, 8])]
    means = charts.rolling_mean(daily)
    assert means[:2] == [None, None]
    assert means[2] == pytest.approx(2.0)
    assert means[6] == pytest.approx(4.0)  # days 1-7
    assert means[7] == pytest.approx(5.0)  # days 2-8: day 1 has left the window
    sparse = [(DAY0, 9.0), (DAY0 + dt.timedelta(days=10), 1.0)]
    assert charts.rolling_mean(sparse) == [None] * 11


def test_long_series_mean_line_is_sampled_but_keeps_the_latest_day():
    entries = [(d, 5) for d in _days(730)]
    mean = charts.nrs_figure(entries, baseline=None)["data"][1]
    assert mean["dx"] == 2 * charts.DAY_MS
    assert len(mean["y"]) == 365
    last = dt.date.fromisoformat(mean["x0"]) + dt.timedelta(days=2 * (len(mean["y"]) - 1))
    assert last == DAY0 + dt.timedelta(days=729)


def test_empty_nrs_figure_says_so():
    fig = charts.nrs_figure([], baseline=None, labels={"no_data": "Nothing"})
    assert fig["data"] == []
    assert fig["layout"]["annotations"][0]["text"] == "Nothing"


# --- questionnaires -------------------------------------------------------------------------


def test_phq9_band_shading_has_one_rectangle_per_band():
    fig = charts.banded_figure([(DAY0, 12)], bands=_bands(PHQ9), name="PHQ-9", cutoff=10)
    rects = [s for s in fig["layout"]["shapes"] if s["type"] == "rect"]
    assert [(r["y0"], r["y1"]) for r in rects] == [
        (0, 4.5),
        (4.5, 9.5),
        (9.5, 14.5),
        (14.5, 19.5),
        (19.5, 27),
    ]
    assert all(r["xref"] == "paper" and r["layer"] == "below" for r in rects)
    assert len({r["fillcolor"] for r in rects}) == 5
    assert 10 in _hlines(fig)  # the screening cut-off
    assert [a["text"] for a in fig["layout"]["annotations"]][:5] == [b.label.en for b in PHQ9.bands]


def test_gad7_and_odi_band_shading():
    gad = charts.banded_figure([(DAY0, 8)], bands=_bands(GAD7), name="GAD-7")
    assert [(r["y0"], r["y1"]) for r in gad["layout"]["shapes"] if r["type"] == "rect"] == [
        (0, 4.5),
        (4.5, 9.5),
        (9.5, 14.5),
        (14.5, 21),
    ]
    odi = charts.banded_figure([(DAY0, 30)], bands=_bands(ODI), name="ODI")
    assert len([r for r in odi["layout"]["shapes"] if r["type"] == "rect"]) == len(ODI.bands)
    assert gad["data"][0]["y"] == [8]


def test_dn4_history_separates_full_and_interview_scores_with_their_cutoffs():
    points = [
        (DAY0, 6, "full"),
        (DAY0 + dt.timedelta(days=30), 3, "interview"),
        (DAY0 + dt.timedelta(days=60), 2, "full"),
    ]
    fig = charts.dn4_figure(points)
    series = {t["name"]: t["y"] for t in fig["data"]}
    assert series == {"DN4 (/10)": [6, 2], "DN4 interview (/7)": [3]}
    assert _hlines(fig) == [3, 4]


# --- thermal ---------------------------------------------------------------------------------


def test_thermal_figure_has_plus_minus_one_degree_lines_and_a_trace_per_region():
    readings = [
        charts.ThermalReading(DAY0, [("L5", -1.6), ("S1", -0.4)]),
        charts.ThermalReading(
            DAY0 + dt.timedelta(days=28),
            [("L5", -0.8), ("S1", -0.2)],
            poor_conditions=True,
        ),
    ]
    fig = charts.thermal_figure(readings)
    assert _hlines(fig) == [-1.0, 0, 1.0]
    traces = {t["name"]: t for t in fig["data"]}
    assert traces["L5"]["y"] == [-1.6, -0.8]
    assert traces["L5"]["x"] == ["2024-01-01", "2024-01-29"]
    assert traces["S1"]["marker"]["symbol"] == [
        "circle",
        "circle-open",
    ]  # poor conditions drawn open
    low, high = fig["layout"]["yaxis"]["range"]
    assert low <= -1.5
    assert high >= 1.5


def test_thermal_figure_plots_mean_asymmetry_falling_as_symmetry_recovers():
    readings = [
        charts.ThermalReading(DAY0 + dt.timedelta(days=28), [("L5", -0.5), ("S1", 0.3)]),
        charts.ThermalReading(DAY0, [("L5", -1.6), ("S1", 0.4)]),
        charts.ThermalReading(DAY0 + dt.timedelta(days=14), []),
    ]
    fig = charts.thermal_figure(readings, labels={"symmetry": "Mean |ΔT|"})
    mean = next(t for t in fig["data"] if t["name"] == "Mean |ΔT|")
    assert mean["x"] == ["2024-01-01", "2024-01-29"]
    assert mean["y"] == [1.0, 0.4]
    assert mean["line"]["dash"] == "dot"


def test_thermal_figure_with_one_region_per_visit_has_no_mean_line():
    fig = charts.thermal_figure([charts.ThermalReading(DAY0, [("L5", -1.6)])])
    assert [t["name"] for t in fig["data"]] == ["L5"]


def test_thermal_range_grows_with_large_asymmetry():
    fig = charts.thermal_figure([charts.ThermalReading(DAY0, [("Hand", 3.2)])])
    assert fig["layout"]["yaxis"]["range"][1] >= 3.5


def test_figure_json_is_compact_and_safe_inside_a_script_element():
    fig = charts.thermal_figure([charts.ThermalReading(DAY0, [("</script><b>", 1.2)])])
    text = charts.figure_json(fig)
    assert "</script>" not in text
    assert "<b>" not in text
    assert json.loads(text)["data"][0]["name"] == "</script><b>"
    assert ", " not in text.split('"name"')[0]


def test_single_day_readings_get_a_week_of_axis():
    """One date: a week around it, not plotly's millisecond zoom; two dates: plotly's own range."""
    day = dt.date(2026, 3, 10)
    fig = charts.dn4_figure([(day, 5, "full"), (day, 3, "interview")])
    assert fig["layout"]["xaxis"]["range"] == ["2026-03-07", "2026-03-13"]
    reading = charts.ThermalReading(day=day, deltas=(("L5", -0.8),), poor_conditions=False)
    assert charts.thermal_figure([reading])["layout"]["xaxis"]["range"] == ["2026-03-07", "2026-03-13"]
    two = charts.dn4_figure([(day, 5, "full"), (day + dt.timedelta(days=20), 3, "full")])
    assert "range" not in two["layout"]["xaxis"]
