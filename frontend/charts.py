"""Plotly figure builders: plain data in, figure dict out (no queries, no request)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

# --- therapist console -------------------------------------------------------------------
#
# Figures are plain dicts (no plotly.py objects, no template) so their JSON stays small: a
# two-year daily NRS diary is sent as one y array per trace with ``x0`` + ``dx`` (one day)
# instead of 730 date strings. Dates are ISO dates without a time (the patient's local day).

DAY_MS = 86_400_000
ROLLING_DAYS = 7
ROLLING_MIN_DAYS = 3  # fewer diary days than this in a window: no mean is drawn there
EMPTY_HEIGHT = 170  # a chart with nothing to show yet stays small
MEAN_POINTS = 400  # at most this many points on the rolling-mean line
SESSION_MARKERS_MAX = 48  # beyond this, sessions are drawn as weekly counts
ASYMMETRY_C = 1.0  # thermal |ΔT| threshold, same as assessments.instruments.thermal
# IMMPACT (Dworkin 2008): >= 30 % moderately, >= 50 % substantially important reduction.
REDUCTIONS = (0.3, 0.5)

_INK = "#1f2937"
_MUTED = "#6b7280"
_GRID = "#e5e7eb"
_RED = "#b91c1c"
_BLUE = "#1d4ed8"
_VIOLET = "#7c3aed"
_SERIES_COLOURS = ("#0f766e", "#b45309", "#1d4ed8", "#be185d", "#4d7c0f", "#7c3aed", "#0e7490", "#9f1239")
# Band shading, from the mildest band to the most severe one.
_BAND_COLOURS = ("#16a34a", "#84cc16", "#eab308", "#f97316", "#dc2626")

CONSOLE_LABELS: dict[str, str] = {
    "nrs_daily": "Daily NRS",
    "nrs_mean": "7-day mean",
    "baseline": "Baseline",
    "reduction_30": "\u221230 %",
    "reduction_50": "\u221250 %",
    "sessions_week": "Sessions / week",
    "dn4_full": "DN4 (/10)",
    "dn4_interview": "DN4 interview (/7)",
    "dn4_cutoff": "≥ 4/10",
    "dn4_interview_cutoff": "≥ 3/7",
    "delta_t": "ΔT affected \u2212 other (°C)",
    "poor_conditions": "outside measurement conditions",
    "symmetry": "Mean |ΔT| over regions",
    "no_data": "No data yet",
}


@dataclass(frozen=True)
class Band:
    """A shaded severity band: published inclusive bounds and a display label."""

    low: float
    high: float
    label: str


@dataclass(frozen=True)
class ThermalReading:
    """One thermography session: the local day, per-ROI ΔT and whether conditions were off."""

    day: dt.date
    deltas: Sequence[tuple[str, float]]
    poor_conditions: bool = False


def _num(value: float, digits: int = 1) -> float | int:
    """Round for the wire; whole numbers travel as ints ("5" rather than "5.0")."""
    rounded = round(float(value), digits)
    return int(rounded) if rounded == int(rounded) else rounded


def _labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    return {**CONSOLE_LABELS, **(labels or {})}


def _layout(
    height: int, *, y_range: Sequence[float] | None = None, y_title: str = "", legend: bool = True
) -> dict[str, Any]:
    yaxis: dict[str, Any] = {"gridcolor": _GRID, "zeroline": False, "fixedrange": True}
    if y_range is not None:
        yaxis["range"] = [_num(y_range[0], 2), _num(y_range[1], 2)]
    if y_title:
        yaxis["title"] = {"text": y_title}
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 44, "r": 8, "t": 8, "b": 28},
        "font": {"size": 12, "color": _INK},
        "xaxis": {"type": "date", "gridcolor": _GRID},
        "yaxis": yaxis,
        "shapes": [],
        "annotations": [],
    }
    if legend:
        layout["legend"] = {"orientation": "h", "y": -0.15, "yanchor": "top"}
    else:
        layout["showlegend"] = False
    return layout


def _hline(y: float, colour: str, dash: str = "dash") -> dict[str, Any]:
    """A horizontal line across the whole plot at data value ``y``."""
    v = _num(y, 2)
    return {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": v,
        "y1": v,
        "line": {"color": colour, "width": 1, "dash": dash},
    }


def _hlabel(y: float, text: str, colour: str) -> dict[str, Any]:
    return {
        "xref": "paper",
        "x": 1,
        "xanchor": "right",
        "y": _num(y, 2),
        "yanchor": "bottom",
        "text": text,
        "showarrow": False,
        "font": {"size": 10, "color": colour},
    }


SINGLE_DAY_PAD = dt.timedelta(days=3)


def _single_day_range(fig: dict[str, Any]) -> dict[str, Any]:
    """Points all on one day: show a week around it. Left to itself plotly zooms in to the
    millisecond ("23:59:59.999 ... 00:00:00.0005")."""
    days = {str(x)[:10] for trace in fig["data"] for x in trace.get("x", ())}
    if len(days) != 1:
        return fig
    try:
        day = dt.date.fromisoformat(days.pop())
    except ValueError:
        return fig
    fig["layout"]["xaxis"]["range"] = [(day - SINGLE_DAY_PAD).isoformat(), (day + SINGLE_DAY_PAD).isoformat()]
    return fig


def _empty(fig: dict[str, Any], text: str) -> dict[str, Any]:
    fig["layout"]["height"] = EMPTY_HEIGHT
    fig["layout"]["annotations"].append(
        {
            "xref": "paper",
            "yref": "paper",
            "x": 0.5,
            "y": 0.5,
            "text": text,
            "showarrow": False,
            "font": {"color": _MUTED},
        }
    )
    fig["layout"]["xaxis"]["visible"] = False
    return fig


def daily_means(entries: Iterable[tuple[dt.date, float]]) -> list[tuple[dt.date, float]]:
    """One value per local day (the mean of that day's entries), in day order."""
    sums: dict[dt.date, list[float]] = {}
    for day, value in entries:
        sums.setdefault(day, []).append(float(value))
    return [(day, sum(values) / len(values)) for day, values in sorted(sums.items())]


def rolling_mean(
    daily: Sequence[tuple[dt.date, float]], *, window: int = ROLLING_DAYS, min_days: int = ROLLING_MIN_DAYS
) -> list[float | None]:
    """Trailing ``window``-day mean for every calendar day from the first to the last entry.

    Days are calendar days (gaps count as days), so a week with two entries is a mean of
    two; fewer than ``min_days`` entries in the window gives ``None`` (a gap in the line).
    """
    if not daily:
        return []
    first = daily[0][0]
    span = (daily[-1][0] - first).days + 1
    values: list[float | None] = [None] * span
    for day, value in daily:
        values[(day - first).days] = value
    out: list[float | None] = []
    total, count = 0.0, 0
    for index in range(span):
        current = values[index]
        if current is not None:
            total, count = total + current, count + 1
        if index >= window:
            leaving = values[index - window]
            if leaving is not None:
                total, count = total - leaving, count - 1
        out.append(total / count if count >= min_days else None)
    return out


def nrs_figure(
    entries: Sequence[tuple[dt.date, float]],
    *,
    baseline: float | None,
    plan_versions: Sequence[tuple[dt.date, str]] = (),
    sessions: Sequence[tuple[dt.date, str]] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Daily NRS (0-10) with its 7-day rolling mean, the baseline and the 30 % / 50 %
    reduction lines (at 70 % and 50 % of baseline), plan-version starts as vertical lines
    and delivered sessions as ticks under the axis.

    ``entries`` are (local day, score) pairs, several per day allowed (averaged);
    ``plan_versions`` (start day, "v2"), ``sessions`` (local day, modality label).
    """
    text = _labels(labels)
    fig: dict[str, Any] = {"data": [], "layout": _layout(300, y_range=(-0.9, 10.4), y_title="NRS")}
    layout = fig["layout"]
    layout["yaxis"]["tickvals"] = [0, 2, 4, 6, 8, 10]
    daily = daily_means(entries)
    if not daily:
        return _empty(fig, text["no_data"])
    fig["data"] += [_nrs_daily_trace(daily, text["nrs_daily"]), _nrs_mean_trace(daily, text["nrs_mean"])]
    if baseline is not None:
        _baseline_lines(layout, baseline, text)
    for start, name in plan_versions:
        _plan_version_line(layout, start, name)
    if len(sessions) > SESSION_MARKERS_MAX:
        return _weekly_sessions(fig, sessions, text["sessions_week"])
    _session_ticks(fig, sessions)
    return _single_day_range(fig)


def _nrs_daily_trace(daily: Sequence[tuple[dt.date, float]], name: str) -> dict[str, Any]:
    """One marker per diary day, as one y array from the first day (gaps are None)."""
    first = daily[0][0]
    ys: list[float | int | None] = [None] * ((daily[-1][0] - first).days + 1)
    for day, value in daily:
        ys[(day - first).days] = _num(value)
    return {
        "type": "scatter",
        "mode": "markers",
        "name": name,
        "x0": first.isoformat(),
        "dx": DAY_MS,
        "y": ys,
        "marker": {"size": 5, "color": "#64748b", "opacity": 0.7},
    }


def _nrs_mean_trace(daily: Sequence[tuple[dt.date, float]], name: str) -> dict[str, Any]:
    """The rolling mean as a smooth line: past a year, every n-th day draws the same picture
    at screen width. Sampling is aligned on the last day so the latest mean is always shown."""
    first = daily[0][0]
    span = (daily[-1][0] - first).days + 1
    stride = max(1, -(-span // MEAN_POINTS))
    means = rolling_mean(daily)
    first_sample = (span - 1) % stride
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x0": (first + dt.timedelta(days=first_sample)).isoformat(),
        "dx": DAY_MS * stride,
        "y": [None if v is None else _num(v) for v in means[first_sample::stride]],
        "line": {"color": _SERIES_COLOURS[0], "width": 2},
    }


def _baseline_lines(layout: dict[str, Any], baseline: float, text: Mapping[str, str]) -> None:
    """The baseline and the 30 % / 50 % reduction levels below it, labelled at the right."""
    layout["shapes"].append(_hline(baseline, _INK, "solid"))
    layout["annotations"].append(_hlabel(baseline, f"{text['baseline']} {_num(baseline)}", _INK))
    for share, key in zip(REDUCTIONS, ("reduction_30", "reduction_50"), strict=True):
        level = baseline * (1 - share)
        layout["shapes"].append(_hline(level, _BLUE if share < 0.5 else _VIOLET))
        layout["annotations"].append(_hlabel(level, text[key], _BLUE if share < 0.5 else _VIOLET))


def _plan_version_line(layout: dict[str, Any], start: dt.date, name: str) -> None:
    """A dotted vertical line where a plan version starts, named at the top ("v2")."""
    iso = start.isoformat()
    layout["shapes"].append(
        {
            "type": "line",
            "yref": "paper",
            "x0": iso,
            "x1": iso,
            "y0": 0,
            "y1": 1,
            "line": {"color": _MUTED, "width": 1, "dash": "dot"},
        }
    )
    layout["annotations"].append(
        {
            "yref": "paper",
            "x": iso,
            "y": 1,
            "xanchor": "left",
            "text": name,
            "showarrow": False,
            "font": {"size": 10, "color": _MUTED},
        }
    )


def _session_ticks(fig: dict[str, Any], sessions: Sequence[tuple[dt.date, str]]) -> None:
    """Sessions: one trace per modality (the legend names it) on a hidden second y axis
    whose 0 sits at NRS -0.5, under the diary, so each point is `0` rather than `-0.5`."""
    by_modality: dict[str, list[str]] = {}
    for day, name in sorted(sessions):
        by_modality.setdefault(name, []).append(day.isoformat())
    if by_modality:
        fig["layout"]["yaxis2"] = {"overlaying": "y", "range": [-0.04, 0.96], "visible": False, "fixedrange": True}
    for index, (name, days) in enumerate(by_modality.items()):
        fig["data"].append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "x": days,
                "y": [0] * len(days),
                "yaxis": "y2",
                "hovertemplate": "%{x}<extra>" + name + "</extra>",
                "marker": {
                    "symbol": "triangle-up",
                    "size": 8,
                    "color": _SERIES_COLOURS[(index + 1) % len(_SERIES_COLOURS)],
                },
            }
        )


def _weekly_sessions(fig: dict[str, Any], sessions: Sequence[tuple[dt.date, str]], name: str) -> dict[str, Any]:
    """A long session history as sessions per week: bars along the bottom of the chart, one
    number per week (x0 + dx), so years of twice-weekly sessions stay within the budget."""
    start = min(day for day, _ in sessions)
    counts = [0] * ((max(day for day, _ in sessions) - start).days // 7 + 1)
    for day, _name in sessions:
        counts[(day - start).days // 7] += 1
    fig["layout"]["yaxis2"] = {"overlaying": "y", "range": [0, max(counts) * 8], "visible": False, "fixedrange": True}
    fig["data"].append(
        {
            "type": "bar",
            "name": name,
            "x0": (start + dt.timedelta(days=3)).isoformat(),
            "dx": 7 * DAY_MS,
            "y": counts,
            "yaxis": "y2",
            "width": 6 * DAY_MS,
            "marker": {"color": _SERIES_COLOURS[1], "opacity": 0.5},
            "hovertemplate": "%{x}: %{y}<extra></extra>",
        }
    )
    return fig


def band_edges(bands: Sequence[Band]) -> list[tuple[float, float]]:
    """Shading extents: adjacent bands meet half-way between one's high and the next's low."""
    edges: list[tuple[float, float]] = []
    for index, band in enumerate(bands):
        low = band.low if index == 0 else (bands[index - 1].high + band.low) / 2
        high = band.high if index == len(bands) - 1 else (band.high + bands[index + 1].low) / 2
        edges.append((low, high))
    return edges


def _band_shading(layout: dict[str, Any], bands: Sequence[Band]) -> None:
    """Each band one rectangle spanning the plot's width, mildest to most severe colour,
    its label at the right edge."""
    for index, (band, (y0, y1)) in enumerate(zip(bands, band_edges(bands), strict=True)):
        colour = _BAND_COLOURS[round(index * (len(_BAND_COLOURS) - 1) / max(len(bands) - 1, 1))]
        layout["shapes"].append(
            {
                "type": "rect",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": _num(y0, 2),
                "y1": _num(y1, 2),
                "fillcolor": colour,
                "opacity": 0.14,
                "line": {"width": 0},
                "layer": "below",
            }
        )
        layout["annotations"].append(
            {
                "xref": "paper",
                "x": 1,
                "xanchor": "right",
                "y": _num((y0 + y1) / 2, 2),
                "text": band.label,
                "showarrow": False,
                "font": {"size": 10, "color": _MUTED},
            }
        )


def banded_figure(
    points: Sequence[tuple[dt.date, float]],
    *,
    bands: Sequence[Band],
    name: str,
    cutoff: float | None = None,
    cutoff_label: str = "",
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A questionnaire total over time on shaded severity bands (PHQ-9, GAD-7, ODI).

    Each band is one rectangle shape spanning the plot's width; the label sits at its
    right edge. ``cutoff`` adds a dashed line (e.g. PHQ-9 >= 10).
    """
    text = _labels(labels)
    low, high = bands[0].low, bands[-1].high
    pad = (high - low) * 0.03
    fig: dict[str, Any] = {
        "data": [],
        "layout": _layout(240, y_range=(low - pad, high + pad), y_title=name, legend=False),
    }
    layout = fig["layout"]
    _band_shading(layout, bands)
    if cutoff is not None:
        layout["shapes"].append(_hline(cutoff, _RED))
        if cutoff_label:
            layout["annotations"].append({**_hlabel(cutoff, cutoff_label, _RED), "x": 0, "xanchor": "left"})
    if not points:
        return _empty(fig, text["no_data"])
    fig["data"].append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": name,
            "x": [day.isoformat() for day, _ in points],
            "y": [_num(value) for _, value in points],
            "line": {"color": _INK, "width": 2},
            "marker": {"size": 7},
        }
    )
    return _single_day_range(fig)


def dn4_figure(
    points: Sequence[tuple[dt.date, float, str]], *, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """DN4 history: the full 10-item score and the patient's 7-item interview as separate
    series, each with its own cut-off (>= 4/10 and >= 3/7, Bouhassira 2005)."""
    text = _labels(labels)
    fig: dict[str, Any] = {"data": [], "layout": _layout(240, y_range=(-0.3, 10.3), y_title="DN4")}
    layout = fig["layout"]
    layout["shapes"] += [_hline(4, _RED), _hline(3, _RED, "dot")]
    layout["annotations"] += [
        _hlabel(4, text["dn4_cutoff"], _RED),
        {**_hlabel(3, text["dn4_interview_cutoff"], _RED), "yanchor": "top"},
    ]
    if not points:
        return _empty(fig, text["no_data"])
    for variant, key, colour, symbol in (
        ("full", "dn4_full", _SERIES_COLOURS[0], "circle"),
        ("interview", "dn4_interview", _SERIES_COLOURS[1], "diamond"),
    ):
        chosen = [(day, total) for day, total, kind in points if kind == variant]
        if chosen:
            fig["data"].append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": text[key],
                    "x": [day.isoformat() for day, _ in chosen],
                    "y": [_num(total) for _, total in chosen],
                    "line": {"color": colour, "width": 2},
                    "marker": {"size": 8, "symbol": symbol},
                }
            )
    return _single_day_range(fig)


def thermal_figure(readings: Sequence[ThermalReading], *, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """ΔT (affected minus contralateral side) per region of interest over time, with the
    ±1.0 °C asymmetry lines. Readings taken outside the required room temperature or
    acclimatisation time are drawn as open markers."""
    text = _labels(labels)
    largest = max((abs(delta) for reading in readings for _, delta in reading.deltas), default=0.0)
    limit = max(1.5, largest + 0.3)
    fig: dict[str, Any] = {"data": [], "layout": _layout(260, y_range=(-limit, limit), y_title=text["delta_t"])}
    layout = fig["layout"]
    layout["shapes"] += [_hline(ASYMMETRY_C, _RED), _hline(-ASYMMETRY_C, _RED), _hline(0, _MUTED, "solid")]
    layout["annotations"] += [
        _hlabel(ASYMMETRY_C, "+1.0 °C", _RED),
        {**_hlabel(-ASYMMETRY_C, "\u22121.0 °C", _RED), "yanchor": "top"},
    ]
    if not readings:
        return _empty(fig, text["no_data"])
    regions: dict[str, list[tuple[dt.date, float, bool]]] = {}
    for reading in sorted(readings, key=lambda r: r.day):
        for region, delta in reading.deltas:
            regions.setdefault(region, []).append((reading.day, delta, reading.poor_conditions))
    for index, (region, series) in enumerate(regions.items()):
        trace: dict[str, Any] = {
            "type": "scatter",
            "mode": "lines+markers",
            "name": region,
            "x": [day.isoformat() for day, _, _ in series],
            "y": [_num(delta, 2) for _, delta, _ in series],
            "line": {"color": _SERIES_COLOURS[index % len(_SERIES_COLOURS)], "width": 2},
            "marker": {"size": 8},
        }
        if any(poor for _, _, poor in series):
            trace["marker"]["symbol"] = ["circle-open" if poor else "circle" for _, _, poor in series]
            trace["text"] = [text["poor_conditions"] if poor else "" for _, _, poor in series]
        fig["data"].append(trace)
    symmetry = _symmetry_trace(readings, text["symmetry"])
    if symmetry is not None:
        fig["data"].append(symmetry)
    return _single_day_range(fig)


def _symmetry_trace(readings: Sequence[ThermalReading], name: str) -> dict[str, Any] | None:
    """Mean |ΔT| over the regions of each visit: symmetry recovering as it falls toward 0.
    Drawn once some visit has two regions or more (with one it repeats that region's |ΔT|)."""
    if not any(len(reading.deltas) > 1 for reading in readings):
        return None
    visits = [r for r in sorted(readings, key=lambda r: r.day) if r.deltas]
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": name,
        "x": [r.day.isoformat() for r in visits],
        "y": [_num(sum(abs(d) for _, d in r.deltas) / len(r.deltas), 2) for r in visits],
        "line": {"color": _INK, "width": 3, "dash": "dot"},
        "marker": {"size": 9, "symbol": "diamond"},
    }


_HTML_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def figure_json(fig: Mapping[str, Any]) -> str:
    """Compact JSON for a ``<script type="application/json">`` element (HTML-safe, like
    Django's json_script, but without the spaces after separators)."""
    return json.dumps(fig, separators=(",", ":"), ensure_ascii=False).translate(_HTML_ESCAPES)


# --- patient app (PWA) ---

_TEAL = "#0f766e"
_AMBER = "#b45309"


def _axis_title(text: str | None) -> dict[str, Any]:
    return {"title": {"text": text, "font": {"size": 12}, "standoff": 4}} if text else {}


def patient_score_figure(
    points: Sequence[tuple[dt.date, float]], *, bands: Sequence[Band], name: str, no_data: str
) -> dict[str, Any]:
    """A questionnaire total over time for the phone: the console's banded chart, smaller,
    without zoom (a finger drag should scroll the page)."""
    fig = banded_figure(points, bands=bands, name=name, labels={"no_data": no_data})
    layout = fig["layout"]
    layout["height"] = 200
    layout["margin"] = {"l": 40, "r": 8, "t": 8, "b": 28}
    layout["xaxis"].update({"fixedrange": True, "tickformat": "%m-%d", "hoverformat": "%Y-%m-%d"})
    return fig


def patient_progress_figure(
    *,
    nrs: Sequence[tuple[str, float]],
    vas: Sequence[tuple[str, float]],
    labels: Mapping[str, str],
    baseline: float | None = None,
) -> dict[str, Any]:
    """A compact pain chart for a phone: NRS 0-10 (left axis) and VAS 0-100 mm (right axis).

    ``nrs`` / ``vas`` are ``(local time "YYYY-MM-DD HH:MM", value)`` pairs in time order;
    ``labels`` holds the translated trace names (keys nrs, vas, goal) and axis titles
    (nrs_axis, vas_axis).
    The two axes are scaled so 10 points and 100 mm line up. The dotted goal line is 30 %
    below the pain ``baseline`` (the mean NRS of plan week 0, ``assessments.outcomes.windows``), the
    IMMPACT threshold for a moderately important reduction (Dworkin 2008); none without a
    baseline. An empty figure (no traces) means there is nothing to plot yet.
    """
    fig = go.Figure()
    if nrs:
        fig.add_trace(_progress_trace(nrs, name=labels.get("nrs", "NRS"), colour=_TEAL))
        if baseline is not None and baseline > 0:
            goal = round(baseline * 0.7, 1)
            fig.add_trace(
                go.Scatter(
                    x=[nrs[0][0], nrs[-1][0]],
                    y=[goal, goal],
                    name=labels.get("goal", "Goal"),
                    mode="lines",
                    line={"color": "#4b5563", "width": 1, "dash": "dot"},
                    hoverinfo="skip",
                )
            )
    if vas:
        fig.add_trace(_progress_trace(vas, name=labels.get("vas", "VAS"), colour=_AMBER, vas=True))
    fig.update_layout(**_progress_layout(labels, with_vas=bool(vas)))
    figure: dict[str, Any] = fig.to_plotly_json()
    return figure


def _progress_trace(points: Sequence[tuple[str, float]], *, name: str, colour: str, vas: bool = False) -> go.Scatter:
    """The patient's entries as a line with markers; VAS (mm) on the right axis, diamonds."""
    extra: dict[str, Any] = {"yaxis": "y2"} if vas else {}
    return go.Scatter(
        x=[x for x, _ in points],
        y=[y for _, y in points],
        name=name,
        mode="lines+markers",
        **extra,
        line={"color": colour, "width": 2},
        marker={"size": 7, "symbol": "diamond"} if vas else {"size": 7},
        hovertemplate="%{x}<br>%{y} mm<extra></extra>" if vas else "%{x}<br>%{y}<extra></extra>",
    )


def _progress_layout(labels: Mapping[str, str], *, with_vas: bool) -> dict[str, Any]:
    """Phone-sized, no zoom (a finger drag scrolls the page), NRS 0-10 left and VAS 0-100 mm
    right, scaled so 10 points and 100 mm line up."""
    axis = {"fixedrange": True, "gridcolor": "#e5e7eb", "zeroline": False}
    layout: dict[str, Any] = {
        "template": None,
        "height": 260,
        "margin": {"l": 32, "r": 40 if with_vas else 12, "t": 8, "b": 8},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"size": 13, "color": "#1f2937"},
        "showlegend": True,
        "legend": {"orientation": "h", "x": 0, "y": -0.2, "yanchor": "top"},
        # Numeric dates read the same in Chinese and English (plotly.js ships English names only).
        "xaxis": {**axis, "type": "date", "automargin": True, "tickformat": "%m-%d", "hoverformat": "%Y-%m-%d %H:%M"},
        "yaxis": {**axis, "range": [0, 10.2], "dtick": 2, "automargin": True, **_axis_title(labels.get("nrs_axis"))},
    }
    if with_vas:
        layout["yaxis2"] = {
            **axis,
            "range": [0, 102],
            "dtick": 20,
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "automargin": True,
            **_axis_title(labels.get("vas_axis")),
        }
    return layout
