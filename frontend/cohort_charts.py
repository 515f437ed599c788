"""Plotly figure builders for the cohort outcomes dashboard (pure: plain data in, figures out).

Only ``scatter`` and ``bar`` traces: the vendored plotly.js-basic bundle has nothing else.
Text shown in the figures comes in through ``labels`` so the view can translate it.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

TEAL = "#0f766e"
TEAL_LIGHT = "rgba(15, 118, 110, 0.18)"
AMBER = "#b45309"
GREY = "#6b7280"
GREEN = "#166534"


def _cartesian_template() -> go.layout.Template:
    """Plotly's default template ("plotly") cut to the parts a 2-D scatter or bar chart
    reads: the charts look exactly as with the whole template, and each figure carries
    about 1 kB of it instead of 7 kB of polar, geo, 3-D and colour-scale defaults that
    the vendored plotly.js-basic bundle could not draw anyway."""
    full = pio.templates["plotly"]
    layout_keys = (
        "autotypenumbers",
        "colorway",
        "font",
        "hovermode",
        "hoverlabel",
        "paper_bgcolor",
        "plot_bgcolor",
        "xaxis",
        "yaxis",
        "shapedefaults",
        "annotationdefaults",
        "title",
    )
    return go.layout.Template(
        layout={key: full.layout[key] for key in layout_keys},
        data={"bar": full.data.bar, "scatter": full.data.scatter},
    )


_LAYOUT: dict[str, Any] = {
    "template": _cartesian_template(),
    "margin": {"l": 56, "r": 16, "t": 48, "b": 96},
    "font": {"family": "system-ui, sans-serif", "size": 13},
    "plot_bgcolor": "#fff",
    "paper_bgcolor": "#fff",
    "legend": {"orientation": "h", "x": 0, "y": -0.28},
    "hovermode": "closest",
}

DEFAULT_LABELS: dict[str, str] = {
    "wk": "wk",
    "responders_title": "Responders by diagnosis",
    "responders30": "≥30 % reduction",
    "responders50": "≥50 % reduction",
    "share": "Evaluable patients (%)",
    "trajectory_title": "Pain (NRS) by week since plan start",
    "week": "Week since plan start",
    "nrs": "NRS (0–10)",
    "median": "Median",
    "iqr": "Interquartile range",
    "km_title": "Time to response (≥30 % reduction)",
    "weeks": "Weeks since plan start",
    "not_responded": "Not yet responded",
    "ci": "95 % CI",
    "censored": "Censored",
    "waterfall_title": "Change in pain per patient",
    "patients": "Patients (sorted)",
    "patients_grouped": "Patients (sorted); each bar is the median of a group of neighbours",
    "patients_short": "Patients",
    "pct_change": "Change from baseline (%)",
    "responder50": "≥50 % reduction",
    "responder30": "30–49 % reduction",
    "non_responder": "<30 % reduction",
    "forest_title": "Responders ≥30 % by diagnosis and by plan modality",
    "forest_axis": "Responders ≥30 % (%, 95 % CI)",
    "all_patients": "All patients",
    "too_few": "too few to judge",
}


def _labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    return {**DEFAULT_LABELS, **(labels or {})}


def _none_if_nan(values: Sequence[float | None]) -> list[float | None]:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in values]


def responder_bars(groups: Sequence[Mapping[str, Any]], *, labels: Mapping[str, str] | None = None) -> go.Figure:
    """Horizontal grouped bars of responder rates (>= 30 %, >= 50 %) per group, each
    labelled with its count ("12/30"); groups read top to bottom in the order given.
    ``groups`` are rows shaped like ``analytics.GroupRow``."""
    text = _labels(labels)
    names = [str(g["label"]) for g in groups]
    fig = go.Figure(
        layout={
            **_LAYOUT,
            "title": {"text": text["responders_title"], "x": 0, "xanchor": "left"},
            "barmode": "group",
            "height": max(320, 150 + 60 * len(groups)),
            "margin": {**_LAYOUT["margin"], "l": 8},
        }
    )
    for key, name, color in (
        ("responders50", text["responders50"], AMBER),
        ("responders30", text["responders30"], TEAL),
    ):
        rates = [g[key] for g in groups]
        fig.add_trace(
            go.Bar(
                name=name,
                orientation="h",
                y=names,
                x=[r["pct"] if r["pct"] is not None else 0 for r in rates],
                error_x=_error_bars(rates),
                text=[f"{r['count']}/{r['n']}" for r in rates],
                textposition="outside",
                cliponaxis=False,
                marker={"color": color},
                hovertemplate="%{y}: %{x:.1f} % (%{text})<extra>" + name + "</extra>",
            )
        )
    fig.update_xaxes(title={"text": text["share"]}, range=[0, 115], ticksuffix=" %")
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(legend={"traceorder": "reversed"})
    return fig


def _error_bars(rates: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Asymmetric error bars from each rate's ``ci95`` (percent)."""

    def gap(rate: Mapping[str, Any], bound: str) -> float:
        if rate["pct"] is None or rate["ci95"][bound] is None:
            return 0.0
        return float(abs(rate["ci95"][bound] - rate["pct"]))

    return {
        "type": "data",
        "symmetric": False,
        "array": [gap(r, "high") for r in rates],
        "arrayminus": [gap(r, "low") for r in rates],
        "color": GREY,
        "thickness": 1.5,
        "width": 4,
    }


def forest(
    sections: Sequence[tuple[str, Sequence[Mapping[str, Any]]]],
    overall: Mapping[str, Any],
    *,
    key: str = "responders30",
    labels: Mapping[str, str] | None = None,
) -> go.Figure:
    """Forest-style comparison: one row per group (sections such as diagnosis and plan
    modality, each titled), the rate as a point with its Wilson 95 % interval, and the
    whole cohort's rate as a dashed reference line. Groups resting on too few patients
    are drawn grey and say so. ``sections``: (title, rows shaped like GroupRow)."""
    text = _labels(labels)
    names: list[str] = []
    rates: list[Mapping[str, Any]] = []
    for title, rows in sections:
        for row in rows:
            rate = row[key]
            suffix = f" ({text['too_few']})" if rate["too_few"] else ""
            names.append(f"{title}: {row['label']} · {rate['count']}/{rate['n']}{suffix}")
            rates.append(rate)
    fig = go.Figure(
        layout={
            **_LAYOUT,
            "title": {"text": text["forest_title"], "x": 0, "xanchor": "left"},
            "height": max(320, 140 + 28 * len(names)),
            "margin": {**_LAYOUT["margin"], "l": 8},
            "showlegend": False,
        }
    )
    fig.add_trace(
        go.Scatter(
            x=[r["pct"] for r in rates],
            y=names,
            mode="markers",
            marker={
                "color": [GREY if r["too_few"] else TEAL for r in rates],
                "size": [min(16, 6 + math.sqrt(r["n"])) for r in rates],
                "symbol": "square",
            },
            error_x=_error_bars(rates),
            customdata=[[r["ci95"]["low"], r["ci95"]["high"]] for r in rates],
            hovertemplate="%{y}: %{x:.1f} % (%{customdata[0]}–%{customdata[1]})<extra></extra>",
        )
    )
    if overall["pct"] is not None:
        fig.add_vline(
            x=overall["pct"],
            line={"color": AMBER, "dash": "dash", "width": 1.5},
            annotation={
                "text": f"{text['all_patients']} {overall['pct']:.1f} %",
                "font": {"color": AMBER},
                "xanchor": "left",
                "yanchor": "bottom",
            },
        )
    fig.update_xaxes(title={"text": text["forest_axis"]}, range=[0, 100], ticksuffix=" %")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


def trajectory(
    weeks: Sequence[int],
    median: Sequence[float | None],
    q1: Sequence[float | None],
    q3: Sequence[float | None],
    n: Sequence[int],
    *,
    labels: Mapping[str, str] | None = None,
) -> go.Figure:
    """Median NRS with the interquartile band, by week since plan start; weeks without
    data are gaps, and the hover shows how many patients each week rests on."""
    text = _labels(labels)
    x = list(weeks)
    fig = go.Figure(
        layout={
            **_LAYOUT,
            "title": {"text": text["trajectory_title"], "x": 0, "xanchor": "left"},
        }
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_none_if_nan(q1),
            mode="lines",
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_none_if_nan(q3),
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=TEAL_LIGHT,
            name=text["iqr"],
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_none_if_nan(median),
            mode="lines+markers",
            line={"color": TEAL, "width": 2},
            name=text["median"],
            customdata=list(n),
            hovertemplate="%{x}: %{y:.1f} (n = %{customdata})<extra></extra>",
        )
    )
    fig.update_xaxes(title={"text": text["week"]}, dtick=2 if len(x) > 14 else 1)
    fig.update_yaxes(title={"text": text["nrs"]}, range=[0, 10])
    return fig


def km_curve(
    points: Sequence[Mapping[str, Any]],
    *,
    censored: Sequence[Mapping[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
) -> go.Figure:
    """Kaplan-Meier curve of "not yet responded" as a step line (``line.shape = 'hv'``)
    from (0, 1), with its confidence band and ticks where patients were censored.
    ``points``: {"weeks", "survival", "ci95": {"low", "high"}}; ``censored``: {"weeks",
    "survival"} at each censoring time."""
    text = _labels(labels)
    x = [0.0, *(p["weeks"] for p in points)]
    fig = go.Figure(
        layout={
            **_LAYOUT,
            "title": {"text": text["km_title"], "x": 0, "xanchor": "left"},
        }
    )
    _km_band(fig, x, [1.0, *(p["ci95"]["low"] for p in points)], [1.0, *(p["ci95"]["high"] for p in points)], text)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[1.0, *(p["survival"] for p in points)],
            mode="lines",
            line={"color": TEAL, "width": 2, "shape": "hv"},
            name=text["not_responded"],
            hovertemplate=f"%{{x}} {text['wk']}: %{{y:.2f}}<extra></extra>",
        )
    )
    if censored:
        fig.add_trace(
            go.Scatter(
                x=[c["weeks"] for c in censored],
                y=[c["survival"] for c in censored],
                mode="markers",
                marker={"symbol": "line-ns-open", "size": 10, "color": GREY},
                name=text["censored"],
                hovertemplate=f"%{{x}} {text['wk']}<extra></extra>",
            )
        )
    fig.update_xaxes(title={"text": text["weeks"]}, rangemode="tozero")
    fig.update_yaxes(title={"text": text["not_responded"]}, range=[0, 1.05], tickformat=".0%")
    return fig


def _km_band(
    fig: go.Figure, x: Sequence[float], low: Sequence[float], high: Sequence[float], text: Mapping[str, str]
) -> None:
    """The confidence band as two invisible step lines, the upper one filled down to the lower."""
    fig.add_trace(
        go.Scatter(x=x, y=low, mode="lines", line={"width": 0, "shape": "hv"}, hoverinfo="skip", showlegend=False)
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=high,
            mode="lines",
            line={"width": 0, "shape": "hv"},
            fill="tonexty",
            fillcolor=TEAL_LIGHT,
            name=text["ci"],
            hoverinfo="skip",
        )
    )


#: Bars the waterfall draws at most. A larger cohort's patients are grouped with their
#: neighbours in the sorted order and each group drawn as one bar at its median, so the
#: figure's size stays the same whatever the cohort's (no screen shows more bars anyway).
WATERFALL_MAX_BARS = 200


@dataclass(frozen=True)
class WaterfallBar:
    """Patients ``first``..``last`` (1-based ranks in the sorted order) as one bar."""

    first: int
    last: int
    median: float
    low: float
    high: float


def _responder_band(value: float) -> int:
    return 0 if value <= -50 else 1 if value <= -30 else 2


def waterfall_bars(sorted_values: Sequence[float], *, max_bars: int = WATERFALL_MAX_BARS) -> list[WaterfallBar]:
    """Group values sorted from the largest rise to the largest fall into at most
    ``max_bars`` (+2) bars of neighbours; a group never straddles the -30 % or -50 %
    line, so each bar's colour is the category of every patient in it. Up to
    ``max_bars`` values, one bar per patient."""
    size = max(1, math.ceil(len(sorted_values) / max_bars))
    bars: list[WaterfallBar] = []
    start = 0
    while start < len(sorted_values):
        band = _responder_band(sorted_values[start])
        end = start
        while end < len(sorted_values) and _responder_band(sorted_values[end]) == band:
            end += 1
        pieces = math.ceil((end - start) / size)
        base, bigger = divmod(end - start, pieces)
        for index in range(pieces):
            group = sorted_values[start : start + base + (index < bigger)]
            bars.append(WaterfallBar(start + 1, start + len(group), statistics.median(group), group[-1], group[0]))
            start += len(group)
    return bars


def waterfall(pct_changes: Sequence[float], *, labels: Mapping[str, str] | None = None) -> go.Figure:
    """One bar per patient, sorted from the largest rise to the largest fall in pain,
    coloured by responder category, with reference lines at -30 % and -50 %. Past
    ``WATERFALL_MAX_BARS`` patients, each bar is a group of neighbours at its median
    (``waterfall_bars``), as wide as the group, its range in the hover."""
    text = _labels(labels)
    values = sorted(
        (float(v) for v in pct_changes if v is not None and math.isfinite(float(v))),
        reverse=True,
    )
    bars = waterfall_bars(values)
    grouped = len(bars) < len(values)
    fig = go.Figure(
        layout={
            **_LAYOUT,
            "title": {"text": text["waterfall_title"], "x": 0, "xanchor": "left"},
            "bargap": 0.05 if len(values) < 200 else 0,
            "showlegend": False,
            "shapes": [
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": y,
                    "y1": y,
                    "line": {"color": c, "dash": "dash", "width": 1},
                }
                for y, c in ((-30, TEAL), (-50, GREEN))
            ],
        }
    )
    trace: dict[str, Any] = {
        "x": [(bar.first + bar.last) / 2 for bar in bars],
        "y": [round(bar.median, 1) for bar in bars],
        "marker": {"color": [(GREEN, TEAL, GREY)[_responder_band(bar.median)] for bar in bars], "line": {"width": 0}},
        "hovertemplate": "%{y:.1f} %<extra></extra>",
    }
    if grouped:
        trace["width"] = [bar.last - bar.first + 1 for bar in bars]
        trace["customdata"] = [[bar.first, bar.last, round(bar.low, 1), round(bar.high, 1)] for bar in bars]
        trace["hovertemplate"] = (
            f"{text['patients_short']} %{{customdata[0]}}–%{{customdata[1]}}: {text['median']} %{{y:.1f}} % "
            "(%{customdata[2]:.1f} – %{customdata[3]:.1f} %)<extra></extra>"
        )
    fig.add_trace(go.Bar(**trace))
    fig.update_xaxes(
        title={"text": text["patients_grouped" if grouped else "patients"]},
        showticklabels=False,
        range=[0.5, len(values) + 0.5] if values else None,
    )
    fig.update_yaxes(title={"text": text["pct_change"]}, ticksuffix=" %", zeroline=True)
    return fig


def as_json_data(fig: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON data (for ``json_script``), numpy arrays included."""
    data: dict[str, Any] = json.loads(fig.to_json())
    return data
