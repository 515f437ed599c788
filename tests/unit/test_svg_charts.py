"""The static SVG renderer: plotly figure dicts from the chart builders in, SVG out (pure, no database)."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

from assessments.instruments import GAD7, ODI, PHQ9
from frontend import charts, cohort_charts, svg_charts

NS = {"svg": "http://www.w3.org/2000/svg"}
DAY0 = dt.date(2026, 10, 20)


def _day(offset: int) -> dt.date:
    return DAY0 + dt.timedelta(days=offset)


def _bands(instrument):
    return [charts.Band(b.low, b.high, b.label.en) for b in instrument.bands]


def _svg(fig, **kwargs) -> tuple[str, ET.Element]:
    markup = svg_charts.figure_svg(fig, title=kwargs.pop("title", "Chart"), **kwargs)
    return markup, ET.fromstring(markup)  # noqa: S314  (our own output)


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iterfind(".//svg:text", NS)]


def _x_labels(root: ET.Element) -> list[str]:
    """Tick labels under the plot: middle-anchored text below the clip rectangle."""
    clip = root.find(".//svg:clipPath/svg:rect", NS)
    bottom = float(clip.get("y")) + float(clip.get("height"))
    return [
        t.text or ""
        for t in root.iterfind(".//svg:text", NS)
        if t.get("text-anchor") == "middle" and bottom < float(t.get("y")) < bottom + 20 and not t.get("transform")
    ]


def _marker_points(root: ET.Element) -> int:
    """Dots drawn in the plot (legend swatches sit outside the clipped groups)."""
    return sum(len(re.findall(r"h0", p.get("d"))) for p in root.iterfind("svg:g/svg:path[@class='markers']", NS))


def _figures():
    phq = _bands(PHQ9)
    return {
        "nrs": charts.nrs_figure(
            [(_day(i), 7 if i < 20 else 4) for i in range(45)],
            baseline=6,
            plan_versions=[(_day(23), "v2")],
            sessions=[(_day(30), "tDCS"), (_day(33), "tDCS")],
        ),
        "nrs_empty": charts.nrs_figure([], baseline=None),
        "thermal": charts.thermal_figure(
            [charts.ThermalReading(_day(8 * i), [("L5", -1.9 + 0.3 * i), ("S1", 0.4 * i)], i == 2) for i in range(4)]
        ),
        "dn4": charts.dn4_figure([(_day(3), 5, "full"), (_day(9), 3, "interview")]),
        "phq9": charts.banded_figure([(_day(4), 18), (_day(33), 9)], bands=phq, name="PHQ-9", cutoff=10),
        "gad7": charts.banded_figure([(_day(4), 12)], bands=_bands(GAD7), name="GAD-7"),
        "odi": charts.banded_figure([], bands=_bands(ODI), name="ODI %"),
        "progress": charts.patient_progress_figure(
            nrs=[("2026-11-02 09:30", 6), ("2026-11-05 10:00", 5)],
            vas=[("2026-11-03 09:30", 55)],
            labels={"nrs_axis": "NRS", "vas_axis": "VAS (mm)"},
            baseline=6.5,
        ),
        "waterfall": cohort_charts.as_json_data(cohort_charts.waterfall([20, -10, -35, -60])),
        "km": cohort_charts.as_json_data(
            cohort_charts.km_curve(
                [
                    {"weeks": w, "survival": 1 - 0.1 * w, "ci95": {"low": 1 - 0.15 * w, "high": 1 - 0.05 * w}}
                    for w in (1, 2, 3)
                ],
                censored=[{"weeks": 2.5, "survival": 0.8}],
            )
        ),
    }


@pytest.mark.parametrize("name", list(_figures()))
def test_every_builder_figure_becomes_well_formed_accessible_svg(name):
    markup, root = _svg(_figures()[name], title=f"{name} chart", uid=f"t-{name}")
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"t-{name}-title t-{name}-desc"
    assert root.find("svg:title", NS).text == f"{name} chart"
    assert root.find("svg:desc", NS).text
    # CSP-proof: presentation attributes only, nothing that runs.
    assert " style=" not in markup
    assert "<script" not in markup
    assert not re.search(r"<[^>]*\son\w+=", markup)


def test_lines_and_markers_of_a_known_figure():
    fig = charts.banded_figure(
        [(_day(0), 18), (_day(14), 12), (_day(28), 9)], bands=_bands(PHQ9), name="PHQ-9", cutoff=10
    )
    _, root = _svg(fig)
    lines = [
        p
        for p in root.iterfind("svg:g/svg:path[@fill='none']", NS)
        if p.get("stroke") == "#1f2937" and not p.get("class")
    ]
    assert len(lines) == 1
    assert lines[0].get("d").count("L") == 2  # three points, one unbroken line
    assert _marker_points(root) == 3
    assert len(root.findall(".//svg:rect[@opacity]", NS)) == len(PHQ9.bands)  # severity bands
    dashed = [p for p in root.iterfind(".//svg:path", NS) if p.get("stroke-dasharray")]
    assert [p.get("stroke") for p in dashed] == ["#b91c1c"]  # the cut-off at 10
    assert "PHQ-9: 3 values from 2026-10-20 to 2026-11-17, latest 9." in root.find("svg:desc", NS).text


def test_nrs_diary_gaps_break_the_mean_line_and_every_day_is_a_dot():
    entries = [(_day(i), 5) for i in range(10)] + [(_day(i), 6) for i in range(30, 40)]
    _, root = _svg(charts.nrs_figure(entries, baseline=None))
    assert _marker_points(root) == 20
    mean = next(p for p in root.iterfind(".//svg:path", NS) if p.get("stroke") == "#0f766e" and p.get("fill") == "none")
    assert mean.get("d").count("M") == 2  # no mean over the empty month


def test_date_ticks_are_weekly_month_day_labels_with_the_year_once():
    fig = charts.banded_figure([(_day(0), 5), (_day(42), 9)], bands=_bands(GAD7), name="GAD-7")
    _, root = _svg(fig, width=900)
    labels = _x_labels(root)
    start = labels.index("Oct 25")
    assert labels[start : start + 3] == ["Oct 25", "Nov 1", "Nov 8"], labels  # Sundays, as plotly
    assert _texts(root).count("2026") == 1  # the year under the first label only


def test_long_ranges_get_month_ticks_with_the_year_where_it_changes():
    entries = [(dt.date(2025, 1, 1) + dt.timedelta(days=i), 5) for i in range(500)]
    _, root = _svg(charts.nrs_figure(entries, baseline=None), width=1200)
    labels = _x_labels(root)
    assert "Jan" in labels
    assert "Jul" in labels
    assert {"2025", "2026"} <= set(_texts(root))


def test_chinese_pages_get_chinese_month_labels():
    fig = charts.banded_figure([(_day(0), 5), (_day(42), 9)], bands=_bands(GAD7), name="GAD-7")
    _, root = _svg(fig, lang="zh-hans", width=900)
    labels = _x_labels(root)
    assert "11月 8" in labels, labels
    assert not any(m in " ".join(labels) for m in ("Oct", "Nov"))


def test_an_axis_tickformat_is_followed():
    fig = charts.patient_score_figure([(_day(0), 5), (_day(20), 9)], bands=_bands(GAD7), name="GAD-7", no_data="-")
    _, root = _svg(fig)
    assert all(re.fullmatch(r"\d\d-\d\d", label) for label in _x_labels(root)), _x_labels(root)


def test_two_y_axes_each_with_its_ticks_and_title():
    _, root = _svg(_figures()["progress"])
    texts = _texts(root)
    right = [t.text for t in root.iterfind(".//svg:text[@text-anchor='start']", NS)]
    left = [t.text for t in root.iterfind(".//svg:text[@text-anchor='end']", NS)]
    assert {"0", "20", "40", "60", "80", "100"} <= set(right)  # VAS mm on the right
    assert {"0", "2", "4", "6", "8", "10"} <= set(left)  # NRS on the left
    assert "NRS" in texts
    assert "VAS (mm)" in texts
    rotated = [t for t in root.iterfind(".//svg:text", NS) if (t.get("transform") or "").startswith("rotate(-90")]
    assert {t.text for t in rotated} == {"NRS", "VAS (mm)"}


def test_a_single_point_gets_a_week_of_date_axis_not_a_degenerate_range():
    fig = charts.patient_progress_figure(nrs=[("2026-11-02 09:30", 6)], vas=[], labels={})
    _, root = _svg(fig)
    labels = _x_labels(root)
    assert len(labels) >= 5
    assert len(set(labels)) == len(labels)
    clip = root.find(".//svg:clipPath/svg:rect", NS)
    middle = float(clip.get("x")) + float(clip.get("width")) / 2
    dot = root.find(".//svg:path[@class='markers']", NS).get("d")
    x = float(re.match(r"M([\d.]+)", dot).group(1))
    assert abs(x - middle) < 5  # in the middle of its week, not squeezed against an edge
    assert "NRS: 6 on 2026-11-02." in root.find("svg:desc", NS).text


def test_weekly_session_bars_and_horizontal_responder_bars():
    sessions = [(_day(i), "tDCS") for i in range(0, 400, 3)]
    fig = charts.nrs_figure([(_day(i), 5) for i in range(400)], baseline=None, sessions=sessions)
    _, root = _svg(fig, width=1200)
    bars = [p for p in root.iterfind(".//svg:path", NS) if p.get("fill") == "#b45309"]
    weeks = (399 // 7) + 1
    assert sum(p.get("d").count("Z") for p in bars) in (weeks, weeks + 1)  # and the legend's swatch
    groups = [
        {
            "label": label,
            "responders30": {"pct": p30, "count": 1, "n": 4, "ci95": {"low": 0.0, "high": 80.0}, "too_few": True},
            "responders50": {"pct": p50, "count": 1, "n": 4, "ci95": {"low": 0.0, "high": 60.0}, "too_few": True},
        }
        for label, p30, p50 in (("All patients", 50.0, 25.0), ("Radiculopathy", 40.0, 20.0))
    ]
    _, root = _svg(cohort_charts.as_json_data(cohort_charts.responder_bars(groups)))
    drawn = [p for p in root.iterfind(".//svg:path", NS) if p.get("fill") in ("#0f766e", "#b45309")]
    assert sum(p.get("d").count("Z") for p in drawn) == 4 + 2  # four bars and two legend swatches
    assert "Radiculopathy" in _texts(root)
    assert "1/4" in _texts(root)  # counts at the bar ends


def test_text_is_escaped():
    fig = charts.banded_figure(
        [(_day(0), 3)], bands=[charts.Band(0, 10, 'A < B & "C"')], name="<script>alert(1)</script>"
    )
    markup, root = _svg(fig, title="Tom & Jerry's <chart>")
    assert "<script>" not in markup
    assert root.find("svg:title", NS).text == "Tom & Jerry's <chart>"
    assert 'A < B & "C"' in _texts(root)
    assert root.find("svg:desc", NS).text.startswith("<script>alert(1)</script>: 3 on")


def test_empty_figure_says_no_data():
    _, root = _svg(charts.nrs_figure([], baseline=None))
    assert "No data yet" in _texts(root)
    assert root.find("svg:desc", NS).text == "No data yet"


def test_an_unsupported_trace_falls_back_to_a_text_summary():
    fig = {"data": [{"type": "heatmap", "name": "Body map", "z": [[1, 2]]}], "layout": {"height": 200}}
    _, root = _svg(fig, words={"not_drawn": "%(name)s: later."})
    assert "Body map: later." in _texts(root)
    assert root.find("svg:desc", NS).text == "Body map: later."


def test_session_markers_on_the_hidden_axis_are_summarised_as_dates():
    _, root = _svg(_figures()["nrs"])
    desc = root.find("svg:desc", NS).text
    assert "tDCS: 2 entries from 2026-11-19 to 2026-11-22." in desc
    assert "Daily NRS: 45 values from 2026-10-20 to 2026-12-03, latest 4." in desc


def test_ids_are_unique_per_uid_and_safe():
    markup, root = _svg(_figures()["dn4"], uid='a b"<c')
    assert 'id="a-b--c-clip"' in markup
    assert root.get("aria-labelledby") == "a-b--c-title a-b--c-desc"


def test_height_follows_the_figure_and_width_the_caller():
    _, root = _svg(_figures()["dn4"], width=600)
    assert root.get("viewBox") == "0 0 600 240"
    assert root.get("height") == "240"
    assert root.get("width") == "100%"


def test_two_year_diary_svg_stays_small():
    from tests.frontend.test_charts import two_year_diary

    markup, root = _svg(charts.nrs_figure(two_year_diary(), baseline=6), width=1240)
    assert _marker_points(root) > 650
    assert len(markup) < 30_000
