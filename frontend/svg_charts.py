"""Static, accessible SVG for the plotly figure dicts the chart builders produce.

A page puts this SVG inside each chart container so the chart is there at first paint;
the interactive plotly chart replaces it once plotly has loaded (and if plotly never
loads, the static chart stays). Pure: plain figure dicts in, SVG markup out, no Django.

It draws what the builders in ``charts`` and ``cohort_charts`` emit, not plotly's whole
feature set: ``scatter`` (lines, markers, both; dashes, step lines, ``tonexty`` /
``tozeroy`` fills, error bars) and ``bar`` traces (vertical or horizontal, grouped);
``date``, linear and category axes; a second y axis; rectangle and line shapes;
annotations; a horizontal legend; the layout title. Any other trace is left out of the
drawing and named in a short text summary instead. Every piece of text is escaped here,
so the result can be put into a page as it is.

The ``<svg>`` is ``role="img"`` with a ``<title>`` (the chart's title) and a ``<desc>``
(a one-line summary per series), and uses presentation attributes (``fill=``,
``stroke=``) only: no ``style`` attribute, no script.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

DAY_MS = 86_400_000
_EPOCH = dt.datetime(1970, 1, 1)  # noqa: DTZ001  (plotly dates are wall-clock readings without a zone)
_EMPTY_DATE_RANGE = (946_684_800_000.0, 978_307_200_000.0)  # 2000-01-01 .. 2001-01-01, as plotly
SINGLE_DATE_PAD_MS = 3 * DAY_MS  # one day on a date axis: a week around it
DEFAULT_WIDTH = 640
_DEFAULT_MARGIN = {"l": 80, "r": 80, "t": 100, "b": 80}
_COLOURWAY = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
_INK = "#444"
_GRID = "#eee"
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS_ZH = tuple(f"{month}月" for month in range(1, 13))
_DASHES = {"dot": (1, 1), "dash": (3, 3), "longdash": (5, 5), "dashdot": (3, 1, 1, 1), "longdashdot": (5, 1, 1, 1)}
_TAGS = re.compile(r"</?(?:b|i|em|strong|br|sub|sup|span|a)(?:\s[^>]*)?/?>", re.IGNORECASE)  # plotly's text markup
_UID = re.compile(r"[^A-Za-z0-9_-]")
LEGEND_ROW = 20
SWATCH = 30

# Sentences of the summary (``<desc>``, and the visible text of a chart that cannot be
# drawn). Callers pass them translated; %-style keys as in Django's message catalogues.
WORDS: dict[str, str] = {
    "series": "%(name)s: %(count)s values from %(first)s to %(last)s, latest %(latest)s.",
    "single": "%(name)s: %(latest)s on %(last)s.",
    "events": "%(name)s: %(count)s entries from %(first)s to %(last)s.",
    "categories": "%(name)s: %(pairs)s.",
    "not_drawn": "%(name)s: shown in the interactive chart.",
    "no_series": "No data yet",
}


# --- numbers, dates, text ------------------------------------------------------------------


def _n(value: float) -> str:
    """A coordinate for the markup: one decimal, no trailing ".0"."""
    text = f"{value:.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


def _text_width(text: str, size: float) -> float:
    """Rough rendered width: CJK characters are square, Latin ones a bit over half as wide."""
    return sum(size if ord(char) >= 0x2E80 else size * 0.58 for char in text)


def _plain(text: Any) -> str:
    """Annotation or title text without plotly's HTML-like tags (``<br>`` becomes a space)."""
    return _TAGS.sub(" ", str(text)).replace("  ", " ").strip()


def _date_ms(value: Any) -> float | None:
    """Milliseconds since 1970 for an ISO date or date-time string (plotly's wall-clock
    reading: an offset is dropped, not applied), or a number taken as milliseconds."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    try:
        moment = dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        return None
    return (moment.replace(tzinfo=None) - _EPOCH).total_seconds() * 1000


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _iso_day(ms: float) -> str:
    return (_EPOCH + dt.timedelta(milliseconds=ms)).date().isoformat()


def _dash(dash: Any, width: float) -> str:
    """plotly's dash patterns scale with the line width (at least 3 px per unit)."""
    unit = max(width, 3.0)
    if isinstance(dash, str) and dash in _DASHES:
        return ",".join(_n(part * unit) for part in _DASHES[dash])
    if isinstance(dash, str) and re.fullmatch(r"[0-9., px]+", dash):
        return dash.replace("px", "")
    return ""


def _attrs(**attributes: Any) -> str:
    """`` name="value"`` pairs (underscores become dashes), None and "" left out."""
    parts = []
    for name, value in attributes.items():
        if value is None or value == "":
            continue
        text = _n(value) if isinstance(value, float) else str(value)
        parts.append(f' {name.rstrip("_").replace("_", "-")}="{escape(text)}"')
    return "".join(parts)


def _get(mapping: Any, *keys: str, default: Any = None) -> Any:
    """``mapping[k1][k2]...`` through nested dicts, or ``default``."""
    for key in keys:
        if not isinstance(mapping, Mapping) or key not in mapping:
            return default
        mapping = mapping[key]
    return mapping if mapping is not None else default


def _title_text(title: Any) -> str:
    if isinstance(title, Mapping):
        title = title.get("text")
    return _plain(title) if title else ""


# --- axes ----------------------------------------------------------------------------------


@dataclass
class Axis:
    """One axis: how values map to pixels (``start`` is the pixel of ``lo``)."""

    name: str
    spec: Mapping[str, Any]
    kind: str = "linear"  # "date" (milliseconds), "linear" or "category" (index)
    categories: list[str] = field(default_factory=list)
    lo: float = 0.0
    hi: float = 1.0
    start: float = 0.0
    end: float = 1.0

    @property
    def visible(self) -> bool:
        return self.spec.get("visible", True) is not False

    def value(self, raw: Any) -> float | None:
        if self.kind == "date":
            return _date_ms(raw)
        if self.kind == "category" and isinstance(raw, str):
            return float(self.categories.index(raw)) if raw in self.categories else None
        return _number(raw)

    def px(self, value: float) -> float:
        span = self.hi - self.lo
        return self.start + ((value - self.lo) / span if span else 0.5) * (self.end - self.start)

    def inside(self, value: float) -> bool:
        return min(self.lo, self.hi) <= value <= max(self.lo, self.hi)


def _axis_kind(spec: Mapping[str, Any], values: Iterable[Any]) -> str:
    """The declared axis type, else plotly's guess: date strings, other strings (categories), numbers."""
    declared = spec.get("type")
    if declared in ("date", "linear", "category"):
        return str(declared)
    strings = [v for v in values if isinstance(v, str)]
    if not strings:
        return "linear"
    if all(_number(v) is None and _date_ms(v) is not None for v in strings):
        return "date"
    return "linear" if all(_number(v) is not None for v in strings) else "category"


@dataclass
class Series:
    """One trace prepared for drawing: numeric coordinates on its axes."""

    trace: Mapping[str, Any]
    index: int
    x_axis: Axis
    y_axis: Axis
    xs: list[float | None] = field(default_factory=list)
    ys: list[float | None] = field(default_factory=list)
    bar_width: list[float] = field(default_factory=list)
    bar_offset: float = 0.0

    @property
    def kind(self) -> str:
        return str(self.trace.get("type") or "scatter")

    @property
    def horizontal(self) -> bool:
        return self.kind == "bar" and self.trace.get("orientation") == "h"

    @property
    def mode(self) -> str:
        mode = self.trace.get("mode")
        if mode:
            return str(mode)
        return "lines+markers" if len(self.trace.get("y") or ()) < 20 else "lines"

    @property
    def lines(self) -> bool:
        return "lines" in self.mode and float(_get(self.trace, "line", "width", default=2)) > 0

    @property
    def markers(self) -> bool:
        return "markers" in self.mode

    @property
    def colour(self) -> str:
        default = _COLOURWAY[self.index % len(_COLOURWAY)]
        line = _get(self.trace, "line", "color")
        marker = _get(self.trace, "marker", "color")
        if self.kind == "bar":
            return str(marker) if isinstance(marker, str) else default
        return str(line or (marker if isinstance(marker, str) else None) or default)

    @property
    def name(self) -> str:
        return _plain(self.trace.get("name") or "")

    def points(self) -> list[tuple[int, float, float]]:
        """(index, x, y) of every point with both coordinates."""
        return [
            (i, x, y) for i, (x, y) in enumerate(zip(self.xs, self.ys, strict=False)) if x is not None and y is not None
        ]


def _raw(trace: Mapping[str, Any], letter: str) -> list[Any]:
    """The values that decide an axis type: the coordinate array, else its ``x0`` / ``y0``."""
    if trace.get(letter) is not None:
        return list(trace[letter])
    return [trace[letter + "0"]] if trace.get(letter + "0") is not None else []


def _coords(trace: Mapping[str, Any], letter: str, axis: Axis, count: int) -> list[float | None]:
    """Numeric coordinates: the array converted, or ``x0 + i * dx`` (``dx`` in ms on a date axis)."""
    if trace.get(letter) is not None:
        return [axis.value(v) for v in trace[letter]]
    start = axis.value(trace.get(letter + "0", 0))
    step = _number(trace.get("d" + letter, 1))
    if start is None or step is None:
        return [None] * count
    return [start + i * step for i in range(count)]


SUPPORTED = ("scatter", "bar")


def _series(fig: Mapping[str, Any], axes: dict[str, Axis]) -> tuple[list[Series], list[Mapping[str, Any]]]:
    """Drawable traces as Series, and the traces that cannot be drawn here."""
    drawn: list[tuple[int, Mapping[str, Any]]] = []
    skipped: list[Mapping[str, Any]] = []
    for index, trace in enumerate(fig.get("data") or ()):
        if not isinstance(trace, Mapping) or trace.get("visible", True) in (False, "legendonly"):
            continue
        supported = (trace.get("type") or "scatter") in SUPPORTED and (trace.get("yaxis") or "y") in ("y", "y2")
        if supported:
            drawn.append((index, trace))
        else:
            skipped.append(trace)
    for letter in ("x", "y", "y2"):
        axis = axes[letter]
        on_axis = [t for _, t in drawn if _on(t, letter)]
        values = [v for t in on_axis for v in _raw(t, letter[0])]
        axis.kind = _axis_kind(axis.spec, values)
        if axis.kind == "category":
            axis.categories = list(dict.fromkeys(str(v) for v in values if v is not None))
    series = []
    for index, trace in drawn:
        y_axis = axes["y2" if trace.get("yaxis") == "y2" else "y"]
        item = Series(trace, index, axes["x"], y_axis)
        count = max(len(trace.get("x") or ()), len(trace.get("y") or ()))
        item.xs = _coords(trace, "x", item.x_axis, count)
        item.ys = _coords(trace, "y", y_axis, count)
        series.append(item)
    return series, skipped


def _on(trace: Mapping[str, Any], axis: str) -> bool:
    if axis == "x":
        return True
    return (trace.get("yaxis") or "y") == axis


# --- ranges --------------------------------------------------------------------------------


def _bar_layout(series: Sequence[Series], layout: Mapping[str, Any]) -> None:
    """Bar widths (in axis units) and, with ``barmode`` "group", each trace's offset."""
    bars = [s for s in series if s.kind == "bar"]
    if not bars:
        return
    positions = sorted({p for s in bars for p in (s.ys if s.horizontal else s.xs) if p is not None})
    gaps = [b - a for a, b in itertools.pairwise(positions) if b > a]
    slot = min(gaps) if gaps else 1.0
    grouped = layout.get("barmode", "group") == "group" and len(bars) > 1
    share = (1 - float(layout.get("bargap", 0.2))) * slot / (len(bars) if grouped else 1)
    for order, item in enumerate(bars):
        count = len(item.ys if item.horizontal else item.xs)
        width = item.trace.get("width")
        if isinstance(width, list):
            item.bar_width = [float(_number(w) or share) for w in width]
        else:
            item.bar_width = [float(_number(width) or share)] * count
        item.bar_offset = (order - (len(bars) - 1) / 2) * share if grouped else 0.0


def _extent(series: Sequence[Series], axis: Axis) -> tuple[list[float], bool, float, bool]:
    """Values an automatic range must hold, whether to pad 5 %, the marker padding in
    pixels, and whether a bar base (zero) is among the values."""
    values: list[float] = []
    padded, ppad, has_base = False, 0.0, False
    for item in series:
        along_x = item.x_axis is axis
        if not along_x and item.y_axis is not axis:
            continue
        coords = item.xs if along_x else item.ys
        position = item.kind == "bar" and along_x != item.horizontal
        if position:
            for p, w in zip(coords, item.bar_width, strict=False):
                if p is not None:
                    values += [p + item.bar_offset - w / 2, p + item.bar_offset + w / 2]
            continue
        values += [v for v in coords if v is not None]
        values += _error_extent(item, "x" if along_x else "y")
        if item.kind == "bar":
            values.append(0.0)
            padded, has_base = True, True
            continue
        fill = str(item.trace.get("fill") or "")
        if fill == ("tozerox" if along_x else "tozeroy"):
            values.append(0.0)
        padded = padded or ((item.markers or not along_x) and fill not in ("tonexty", "tozeroy"))
        if item.markers:
            ppad = max(ppad, _marker_size(item.trace) / 2 + 1)
    return values, padded, ppad, has_base


def _set_range(axis: Axis, series: Sequence[Series], length: float, extra: Sequence[float] = ()) -> None:
    """The axis's ``range`` as given, else an automatic one like plotly's (a lone date gets a week)."""
    spec = axis.spec
    given = spec.get("range")
    if isinstance(given, list | tuple) and len(given) == 2 and spec.get("autorange") is not True:
        lo, hi = axis.value(given[0]), axis.value(given[1])
        if lo is not None and hi is not None and lo != hi:
            axis.lo, axis.hi = lo, hi
            return
    if axis.kind == "category":
        axis.lo, axis.hi = -0.5, max(len(axis.categories), 1) - 0.5
    else:
        axis.lo, axis.hi = _auto_range(axis, series, length, extra)
    if spec.get("autorange") == "reversed":
        axis.lo, axis.hi = axis.hi, axis.lo


def _auto_range(axis: Axis, series: Sequence[Series], length: float, extra: Sequence[float]) -> tuple[float, float]:
    values, padded, ppad, has_base = _extent(series, axis)
    values += extra
    if axis.spec.get("rangemode") == "tozero":
        values.append(0.0)
    if not values:
        return _EMPTY_DATE_RANGE if axis.kind == "date" else (-1.0, 6.0)
    lo, hi = min(values), max(values)
    if axis.kind == "date" and hi - lo < DAY_MS:
        middle = (lo + hi) / 2
        return middle - SINGLE_DATE_PAD_MS, middle + SINGLE_DATE_PAD_MS
    if hi == lo:
        return lo - 1, hi + 1
    span = hi - lo
    pad = (0.05 * span if padded else 0.0) + ppad * span / max(length - 2 * ppad, 1.0)
    return (lo if has_base and lo == 0 else lo - pad), (hi if has_base and hi == 0 else hi + pad)


def _error_extent(item: Series, letter: str) -> list[float]:
    spec = item.trace.get("error_" + letter)
    if not isinstance(spec, Mapping) or spec.get("visible") is False:
        return []
    coords = item.xs if letter == "x" else item.ys
    out = []
    for i, value in enumerate(coords):
        if value is not None:
            plus, minus = _error_sizes(spec, i)
            out += [value - minus, value + plus]
    return out


def _error_sizes(spec: Mapping[str, Any], i: int) -> tuple[float, float]:
    """(above, below) of one point's error bar; only ``type: "data"`` arrays and constants."""

    def pick(key: str) -> float:
        values = spec.get(key)
        if isinstance(values, list):
            return float(_number(values[i]) or 0.0) if i < len(values) else 0.0
        return float(_number(values) or 0.0)

    plus = pick("array") if spec.get("type", "data") == "data" else pick("value")
    minus = plus if spec.get("symmetric", True) else (pick("arrayminus"))
    return plus, minus


def _marker_size(trace: Mapping[str, Any]) -> float:
    size = _get(trace, "marker", "size", default=6)
    if isinstance(size, list):
        return max((float(s) for s in size if _number(s) is not None), default=6.0)
    return float(_number(size) or 6.0)


# --- ticks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    value: float
    label: str
    header: str = ""  # a second line under a date label: the year, where it starts or changes


_DATE_STEPS = (
    (1, "day"),
    (2, "day"),
    (7, "week"),
    (14, "week"),
    (1, "month"),
    (2, "month"),
    (3, "month"),
    (6, "month"),
    (1, "year"),
    (2, "year"),
    (5, "year"),
    (10, "year"),
    (20, "year"),
    (50, "year"),
)
_STEP_DAYS = {"day": 1.0, "week": 1.0, "month": 30.44, "year": 365.25}
_DAY0 = dt.date(2000, 1, 1)
_SUNDAY0 = dt.date(2000, 1, 2)  # plotly starts weekly ticks on Sundays


def _months(lang: str) -> tuple[str, ...]:
    return _MONTHS_ZH if lang.lower().startswith("zh") else _MONTHS_EN


def _date_ticks(lo: float, hi: float, length: float, lang: str, fmt: str) -> list[Tick]:
    """Dates at a calendar step chosen for about one label per 90 px, labelled like
    plotly ("Nov 8" / "11月 8", month names for monthly steps, the year under the first
    label and where it changes), or with the axis's own ``tickformat``."""
    lo, hi = min(lo, hi), max(lo, hi)
    wanted = (hi - lo) / DAY_MS / max(2.0, length / 90)
    step, unit = next(((n, u) for n, u in _DATE_STEPS if n * _STEP_DAYS[u] >= wanted), _DATE_STEPS[-1])
    first = (_EPOCH + dt.timedelta(milliseconds=lo)).date()
    if (first - _EPOCH.date()).days * DAY_MS < lo:
        first += dt.timedelta(days=1)
    days = _tick_days(first, (_EPOCH + dt.timedelta(milliseconds=hi)).date(), step, unit)
    months = _months(lang)
    ticks: list[Tick] = []
    last_header = ""
    for day in days:
        value = (day - _EPOCH.date()).days * DAY_MS
        if fmt:
            ticks.append(Tick(float(value), _strftime(day, fmt, months)))
            continue
        if unit == "year":
            ticks.append(Tick(float(value), str(day.year)))
            continue
        label = months[day.month - 1] if unit == "month" else f"{months[day.month - 1]} {day.day}"
        header = str(day.year) if str(day.year) != last_header else ""
        last_header = str(day.year)
        ticks.append(Tick(float(value), label, header))
    return ticks


def _tick_days(first: dt.date, last: dt.date, step: int, unit: str) -> list[dt.date]:
    days: list[dt.date] = []
    if unit in ("day", "week"):
        origin = _SUNDAY0 if unit == "week" else _DAY0
        day = first + dt.timedelta(days=(-(first - origin).days) % step)
        while day <= last and len(days) < 400:
            days.append(day)
            day += dt.timedelta(days=step)
        return days
    months = 12 * step if unit == "year" else step
    index = first.year * 12 + first.month - 1
    if first.day > 1:
        index += 1
    index += (-index) % months
    while len(days) < 400:
        day = dt.date(index // 12, index % 12 + 1, 1)
        if day > last:
            break
        days.append(day)
        index += months
    return days


def _strftime(day: dt.date, fmt: str, months: Sequence[str]) -> str:
    """The few d3 date directives our figures use, with month names in the page's language."""
    table = {
        "%Y": f"{day.year:04d}",
        "%y": f"{day.year % 100:02d}",
        "%m": f"{day.month:02d}",
        "%-m": str(day.month),
        "%d": f"{day.day:02d}",
        "%-d": str(day.day),
        "%e": str(day.day),
        "%b": months[day.month - 1],
        "%H": "00",
        "%M": "00",
    }
    return re.sub(r"%-?[A-Za-z]", lambda m: table.get(m.group(0), ""), fmt)


def _nice_step(span: float, count: float) -> float:
    raw = span / max(count, 1.0)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), 10 * magnitude)


def _number_label(value: float, step: float, spec: Mapping[str, Any]) -> str:
    """A tick number as plotly writes it: decimals from the step, a real minus sign,
    ``tickformat`` percentages (".0%") and ``ticksuffix`` / ``tickprefix``."""
    fmt = str(spec.get("tickformat") or "")
    percent = re.fullmatch(r"\.(\d)%", fmt)
    if percent:
        text = f"{value * 100:.{percent.group(1)}f}%"
    else:
        digits = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
        text = f"{value:.{min(digits, 6)}f}"
    if re.fullmatch(r"-0(\.0*)?%?", text):
        text = text[1:]
    text = text.replace("-", "\u2212")
    return f"{spec.get('tickprefix') or ''}{text}{spec.get('ticksuffix') or ''}"


def _ticks(axis: Axis, length: float, lang: str) -> list[Tick]:
    """The axis's ticks: ``tickvals`` (with ``ticktext``), categories, dates or nice numbers."""
    spec = axis.spec
    lo, hi = min(axis.lo, axis.hi), max(axis.lo, axis.hi)
    values = spec.get("tickvals")
    if isinstance(values, list) and values:
        texts = spec.get("ticktext") or []
        numbers = [axis.value(v) for v in values]
        step = min(
            (abs(b - a) for a, b in itertools.pairwise(numbers) if a is not None and b is not None and b != a),
            default=1.0,
        )
        return [
            Tick(n, _plain(texts[i]) if i < len(texts) else _number_label(n, step, spec))
            for i, n in enumerate(numbers)
            if n is not None and lo <= n <= hi
        ]
    if axis.kind == "category":
        stride = max(1, math.ceil(len(axis.categories) * 14 / max(length, 1.0)))
        return [Tick(float(i), name) for i, name in enumerate(axis.categories) if i % stride == 0]
    if axis.kind == "date":
        return _date_ticks(lo, hi, length, lang, str(spec.get("tickformat") or ""))
    dtick = _number(spec.get("dtick"))
    count = min(max(length / (80 if axis.name == "x" else 35), 4), 9) + 1
    step = dtick if dtick and dtick > 0 and (hi - lo) / dtick <= 200 else _nice_step(hi - lo, count)
    tick0 = _number(spec.get("tick0")) or 0.0
    first = tick0 + math.ceil((lo - tick0) / step - 1e-9) * step
    count = int((hi - first) / step + 1e-9) + 1
    return [Tick(first + i * step, _number_label(first + i * step, step, spec)) for i in range(max(count, 0))]


# --- geometry ------------------------------------------------------------------------------


@dataclass
class Frame:
    """The SVG's size and the plot area inside it (pixels, y down)."""

    width: float
    height: float
    left: float
    top: float
    right: float
    bottom: float
    font: float
    ink: str
    x_label_height: float = 0.0
    x_title_height: float = 0.0

    def paper_x(self, value: float) -> float:
        return self.left + value * (self.right - self.left)

    def paper_y(self, value: float) -> float:
        return self.bottom - value * (self.bottom - self.top)


def _labelled(axis: Axis) -> bool:
    return axis.visible and axis.spec.get("showticklabels", True) is not False


def _frame(
    layout: Mapping[str, Any], axes: dict[str, Axis], series: Sequence[Series], width: int, lang: str, height_px: int
) -> Frame:
    """Margins grown (as plotly's automargin does) to hold tick labels, axis titles,
    the title and the legend; then every axis gets its range and its pixel extent."""
    height = float(_number(layout.get("height")) or height_px)
    margin = {**_DEFAULT_MARGIN, **(layout.get("margin") or {})}
    font = float(_number(_get(layout, "font", "size")) or 12)
    frame = Frame(
        float(width),
        height,
        float(margin["l"]),
        float(margin["t"]),
        width - float(margin["r"]),
        height - float(margin["b"]),
        font,
        str(_get(layout, "font", "color", default=_INK)),
    )
    for name, axis in axes.items():
        length = frame.right - frame.left if name == "x" else frame.bottom - frame.top
        _set_range(axis, series, length, _shape_values(layout, axis, name[0]))
    for name, axis in axes.items():
        if name == "x" or not axis.visible:
            continue
        labels = _ticks(axis, frame.bottom - frame.top, lang) if _labelled(axis) else []
        need = max((_text_width(t.label, font) for t in labels), default=0.0) + 8
        need += font + 8 if _title_text(axis.spec.get("title")) else 0
        if axis.spec.get("side") == "right":
            frame.right = min(frame.right, width - need)
        else:
            frame.left = max(frame.left, need)
    if _title_text(layout.get("title")):
        frame.top = max(frame.top, font * 2.8)
    x_axis = axes["x"]
    if x_axis.visible:
        labels = _ticks(x_axis, frame.right - frame.left, lang) if _labelled(x_axis) else []
        frame.x_label_height = (font * 1.4 + (font * 1.2 if any(t.header for t in labels) else 0)) if labels else 0
        frame.x_title_height = font * 1.6 if _title_text(x_axis.spec.get("title")) else 0.0
    rows = _legend_rows(_legend_items(layout, series), frame.right - frame.left, font)
    legend = len(rows) * LEGEND_ROW + 6 if rows else 0.0
    # Tick labels, the axis title and the legend share the bottom margin, grown if they need more.
    frame.bottom = height - max(float(margin["b"]), frame.x_label_height + 2 + frame.x_title_height + legend)
    frame.bottom = max(frame.bottom, frame.top + 40)
    x_axis.start, x_axis.end = frame.left, frame.right
    for name in ("y", "y2"):
        axes[name].start, axes[name].end = frame.bottom, frame.top
    return frame


# --- drawing: traces -----------------------------------------------------------------------


Point = tuple[float, float]


def _pixels(item: Series) -> list[Point | None]:
    out: list[Point | None] = []
    for x, y in zip(item.xs, item.ys, strict=False):
        out.append(None if x is None or y is None else (item.x_axis.px(x), item.y_axis.px(y)))
    if item.trace.get("connectgaps"):
        out = [p for p in out if p is not None]
    return out


def _runs(points: Sequence[Point | None], shape: str) -> list[list[Point]]:
    """Unbroken stretches of a line, with the corners of a step line (``hv`` / ``vh``) added."""
    runs: list[list[Point]] = []
    current: list[Point] = []
    for point in [*points, None]:
        if point is None:
            if current:
                runs.append(current)
            current = []
            continue
        if current and shape in ("hv", "vh"):
            last = current[-1]
            current.append((point[0], last[1]) if shape == "hv" else (last[0], point[1]))
        current.append(point)
    return runs


def _polyline(run: Sequence[Point]) -> str:
    return "M" + "L".join(f"{_n(x)} {_n(y)}" for x, y in run)


def _scatter_svg(item: Series, previous: Series | None) -> list[str]:
    trace, out = item.trace, []
    pixels = _pixels(item)
    shape = str(_get(trace, "line", "shape", default="linear"))
    fill = _fill_path(item, previous, pixels, shape)
    if fill:
        colour = trace.get("fillcolor") or item.colour
        out.append(f"<path{_attrs(d=fill, fill=colour, fill_opacity=None if trace.get('fillcolor') else '0.5')}/>")
    if item.lines:
        width = float(_get(trace, "line", "width", default=2))
        d = "".join(_polyline(run) for run in _runs(pixels, shape))
        if d:
            dash = _dash(_get(trace, "line", "dash"), width)
            out.append(
                f"<path{_attrs(d=d, fill='none', stroke=item.colour, stroke_width=width, stroke_dasharray=dash, stroke_linejoin='round', opacity=_opacity(trace))}/>"
            )
    out += _error_bars(item)
    if item.markers:
        out += _markers(item, pixels)
    return out


def _opacity(trace: Mapping[str, Any]) -> float | None:
    value = _number(trace.get("opacity"))
    return value if value is not None and value < 1 else None


def _fill_path(item: Series, previous: Series | None, pixels: Sequence[Point | None], shape: str) -> str:
    """``tozeroy``: down to y = 0; ``tonexty``: back along the previous trace, one area per
    stretch where both traces have values."""
    fill = item.trace.get("fill")
    if fill == "tozeroy":
        base = item.y_axis.px(0.0)
        return "".join(
            _polyline([(run[0][0], base), *run, (run[-1][0], base)]) + "Z" for run in _runs(pixels, shape) if run
        )
    if fill != "tonexty" or previous is None:
        return ""
    other = _pixels(previous)
    if len(other) != len(pixels):
        mine = [p for p in pixels if p is not None]
        theirs = [p for p in other if p is not None]
        return _polyline(mine + theirs[::-1]) + "Z" if mine and theirs else ""
    areas = []
    stretch: list[int] = []
    for index in range(len(pixels) + 1):
        if index < len(pixels) and pixels[index] is not None and other[index] is not None:
            stretch.append(index)
            continue
        if stretch:
            top = _runs([pixels[i] for i in stretch], shape)[0]
            bottom = _runs([other[i] for i in stretch], shape)[0]
            areas.append(_polyline(top + bottom[::-1]) + "Z")
        stretch = []
    return "".join(areas)


def _marker_path(symbol: str, x: float, y: float, r: float) -> str:
    """One marker as path data around (x, y); circles are a zero-length stroke (see _markers)."""
    if symbol.startswith("square"):
        return f"M{_n(x - r)} {_n(y - r)}h{_n(2 * r)}v{_n(2 * r)}h{_n(-2 * r)}Z"
    if symbol.startswith("diamond"):
        s = r * 1.3
        return f"M{_n(x)} {_n(y - s)}l{_n(s)} {_n(s)}l{_n(-s)} {_n(s)}l{_n(-s)} {_n(-s)}Z"
    if symbol.startswith("triangle-down"):
        return f"M{_n(x)} {_n(y + r)}l{_n(r * 1.15)} {_n(-r * 1.7)}h{_n(-r * 2.3)}Z"
    if symbol.startswith("triangle"):
        return f"M{_n(x)} {_n(y - r)}l{_n(r * 1.15)} {_n(r * 1.7)}h{_n(-r * 2.3)}Z"
    if symbol.startswith("line-ns"):
        return f"M{_n(x)} {_n(y - r)}v{_n(2 * r)}"
    if symbol.endswith("-open"):
        return f"M{_n(x - r)} {_n(y)}a{_n(r)} {_n(r)} 0 1 0 {_n(2 * r)} 0a{_n(r)} {_n(r)} 0 1 0 {_n(-2 * r)} 0"
    return f"M{_n(x)} {_n(y)}h0"


def _per_point(value: Any, index: int, default: Any) -> Any:
    if isinstance(value, list):
        return value[index] if index < len(value) and value[index] is not None else default
    return default if value is None else value


def _markers(item: Series, pixels: Sequence[Point | None]) -> list[str]:
    """Markers grouped by look, one path per group. A filled circle is a zero-length
    segment drawn with a round cap as wide as the marker: a dot in a few bytes."""
    marker = item.trace.get("marker") or {}
    default = item.colour
    groups: dict[tuple[str, float, str], list[Point]] = {}
    for index, point in enumerate(pixels):
        if point is None:
            continue
        symbol = str(_per_point(marker.get("symbol"), index, "circle"))
        size = float(_number(_per_point(marker.get("size"), index, 6)) or 6)
        colour = str(_per_point(marker.get("color"), index, default))
        groups.setdefault((symbol, size, colour), []).append(point)
    opacity = _number(marker.get("opacity"))
    out = []
    for (symbol, size, colour), points in groups.items():
        r = size / 2
        d = "".join(_marker_path(symbol, x, y, r) for x, y in points)
        dot = not symbol.startswith(("square", "diamond", "triangle", "line-ns")) and not symbol.endswith("-open")
        if dot:
            attrs = _attrs(d=d, stroke=colour, stroke_width=size, stroke_linecap="round", fill="none")
        elif symbol.endswith("-open") or symbol.startswith("line-ns"):
            attrs = _attrs(d=d, fill="none", stroke=colour, stroke_width=1.5)
        else:
            attrs = _attrs(d=d, fill=colour)
        out.append(
            f'<path class="markers"{attrs}{_attrs(opacity=opacity if opacity is not None and opacity < 1 else None)}/>'
        )
    return out


def _error_bars(item: Series) -> list[str]:
    out = []
    for letter in ("x", "y"):
        spec = item.trace.get("error_" + letter)
        if not isinstance(spec, Mapping) or spec.get("visible") is False:
            continue
        cap = float(_number(spec.get("width")) or 4)
        parts = []
        for index, x_value, y_value in item.points():
            plus, minus = _error_sizes(spec, index)
            x = x_value + (item.bar_offset if item.kind == "bar" and not item.horizontal else 0.0)
            y = y_value + (item.bar_offset if item.horizontal else 0.0)
            if letter == "x":
                a, b, at = item.x_axis.px(x - minus), item.x_axis.px(x + plus), item.y_axis.px(y)
                parts.append(
                    f"M{_n(a)} {_n(at)}H{_n(b)}M{_n(a)} {_n(at - cap)}v{_n(2 * cap)}M{_n(b)} {_n(at - cap)}v{_n(2 * cap)}"
                )
            else:
                a, b, at = item.y_axis.px(y - minus), item.y_axis.px(y + plus), item.x_axis.px(x)
                parts.append(
                    f"M{_n(at)} {_n(a)}V{_n(b)}M{_n(at - cap)} {_n(a)}h{_n(2 * cap)}M{_n(at - cap)} {_n(b)}h{_n(2 * cap)}"
                )
        if parts:
            colour = spec.get("color") or item.colour
            out.append(
                f"<path{_attrs(d=''.join(parts), fill='none', stroke=colour, stroke_width=float(_number(spec.get('thickness')) or 2))}/>"
            )
    return out


def _bar_svg(item: Series, font: float, ink: str) -> list[str]:
    """Bars from zero, one path per colour, and ``text`` labels just past each bar's end."""
    marker = item.trace.get("marker") or {}
    value_axis, position_axis = (item.x_axis, item.y_axis) if item.horizontal else (item.y_axis, item.x_axis)
    positions, values = (item.ys, item.xs) if item.horizontal else (item.xs, item.ys)
    shapes: dict[str, list[str]] = {}
    labels = []
    texts = item.trace.get("text")
    for index, (position, value) in enumerate(zip(positions, values, strict=False)):
        if position is None or value is None:
            continue
        centre = position + item.bar_offset
        half = item.bar_width[index] / 2 if index < len(item.bar_width) else 0.4
        p0, p1 = position_axis.px(centre - half), position_axis.px(centre + half)
        v0, v1 = value_axis.px(0.0), value_axis.px(value)
        colour = str(_per_point(marker.get("color"), index, item.colour))
        if item.horizontal:
            d = f"M{_n(v0)} {_n(p0)}H{_n(v1)}V{_n(p1)}H{_n(v0)}Z"
        else:
            d = f"M{_n(p0)} {_n(v0)}V{_n(v1)}H{_n(p1)}V{_n(v0)}Z"
        shapes.setdefault(colour, []).append(d)
        text = _per_point(texts, index, None) if isinstance(texts, list) else texts
        if text:
            sign = 1 if value >= 0 else -1
            middle = (p0 + p1) / 2
            if item.horizontal:
                labels.append(
                    _text(_plain(text), v1 + 4 * sign, middle + font * 0.35, font, ink, "start" if sign > 0 else "end")
                )
            else:
                labels.append(_text(_plain(text), middle, v1 - 4 * sign, font, ink, "middle"))
    opacity = _number(marker.get("opacity"))
    bars = [
        f"<path{_attrs(d=''.join(parts), fill=colour, opacity=opacity if opacity is not None and opacity < 1 else None)}/>"
        for colour, parts in shapes.items()
    ]
    return bars + _error_bars(item) + labels


def _text(text: str, x: float, y: float, size: float, colour: str, anchor: str = "start", **extra: Any) -> str:
    return f"<text{_attrs(x=float(x), y=float(y), font_size=float(size), fill=colour, text_anchor=anchor, **extra)}>{escape(text)}</text>"


# --- drawing: shapes, annotations, axes, legend --------------------------------------------


def _ref_x(ref: Any, value: Any, axes: Mapping[str, Axis], frame: Frame) -> float | None:
    if ref in ("paper", "x domain"):
        number = _number(value)
        return None if number is None else frame.paper_x(number)
    number = axes["x"].value(value)
    return None if number is None else axes["x"].px(number)


def _ref_y(ref: Any, value: Any, axes: Mapping[str, Axis], frame: Frame) -> float | None:
    if ref in ("paper", "y domain", "y2 domain"):
        number = _number(value)
        return None if number is None else frame.paper_y(number)
    axis = axes["y2" if ref == "y2" else "y"]
    number = axis.value(value)
    return None if number is None else axis.px(number)


def _shape_values(layout: Mapping[str, Any], axis: Axis, letter: str) -> list[float]:
    """Data-positioned shapes widen an automatic range, as in plotly."""
    out: list[float] = []
    for shape in layout.get("shapes") or ():
        ref = shape.get(letter + "ref") or letter
        if ref == axis.name:
            out += [
                v for v in (axis.value(shape.get(letter + "0")), axis.value(shape.get(letter + "1"))) if v is not None
            ]
    return out


def _shape_svg(shape: Mapping[str, Any], axes: Mapping[str, Axis], frame: Frame) -> str:
    """A ``line`` or ``rect`` shape; other shape types are left to the interactive chart."""
    kind = shape.get("type", "rect")
    xs = [_ref_x(shape.get("xref") or "x", shape.get(k), axes, frame) for k in ("x0", "x1")]
    ys = [_ref_y(shape.get("yref") or "y", shape.get(k), axes, frame) for k in ("y0", "y1")]
    if kind not in ("line", "rect") or None in xs or None in ys:
        return ""
    x0, x1, y0, y1 = float(xs[0] or 0), float(xs[1] or 0), float(ys[0] or 0), float(ys[1] or 0)
    line = shape.get("line") or {}
    given = _number(line.get("width"))
    width = 2.0 if given is None else given
    stroke = {
        "stroke": line.get("color") or _INK if width > 0 else None,
        "stroke_width": width if width > 0 else None,
        "stroke_dasharray": _dash(line.get("dash"), width) if width > 0 else None,
    }
    opacity = _number(shape.get("opacity"))
    opacity = opacity if opacity is not None and opacity < 1 else None
    if kind == "line":
        return (
            ""
            if width <= 0
            else f"<path{_attrs(d=f'M{_n(x0)} {_n(y0)}L{_n(x1)} {_n(y1)}', **stroke, opacity=opacity)}/>"
        )
    box = {"x": min(x0, x1), "y": min(y0, y1), "width": abs(x1 - x0), "height": abs(y1 - y0)}
    return f"<rect{_attrs(**box, fill=shape.get('fillcolor') or 'none', **stroke, opacity=opacity)}/>"


_ANCHORS = {"left": "start", "center": "middle", "right": "end"}


def _annotation_svg(note: Mapping[str, Any], axes: Mapping[str, Axis], frame: Frame) -> str:
    """Annotation text at its point, anchored as given (``auto``: by where it sits on the paper)."""
    xref, yref = note.get("xref") or "x", note.get("yref") or "y"
    x, y = _ref_x(xref, note.get("x", 0.5), axes, frame), _ref_y(yref, note.get("y", 0.5), axes, frame)
    text = _plain(note.get("text") or "")
    if x is None or y is None or not text or note.get("visible") is False:
        return ""
    size = float(_number(_get(note, "font", "size")) or frame.font)
    colour = str(_get(note, "font", "color", default=frame.ink))
    xanchor, yanchor = note.get("xanchor", "auto"), note.get("yanchor", "auto")
    if xanchor == "auto":
        xanchor = _auto_anchor(xref, note.get("x"), ("left", "center", "right"))
    if yanchor == "auto":
        yanchor = _auto_anchor(yref, note.get("y"), ("bottom", "middle", "top"))
    baseline = {"bottom": y - size * 0.3, "top": y + size * 1.0}.get(str(yanchor), y + size * 0.35)
    return _text(text, x, baseline, size, colour, _ANCHORS.get(str(xanchor), "middle"))


def _auto_anchor(ref: Any, value: Any, names: tuple[str, str, str]) -> str:
    number = _number(value)
    if ref not in ("paper", "x domain", "y domain") or number is None:
        return names[1]
    return names[0] if number <= 1 / 3 else names[2] if number >= 2 / 3 else names[1]


def _axes_svg(axes: Mapping[str, Axis], frame: Frame, lang: str) -> tuple[list[str], list[str]]:
    """Grid and zero lines (drawn under the traces) and tick labels and titles (over them)."""
    under: list[str] = []
    over: list[str] = []
    for name, axis in axes.items():
        if not axis.visible:
            continue
        across = name == "x"
        ticks = _ticks(axis, (frame.right - frame.left) if across else (frame.bottom - frame.top), lang)
        spec = axis.spec
        if spec.get("showgrid", True) is not False and ticks:
            d = "".join(_across(axis.px(t.value), frame, across) for t in ticks)
            under.append(f"<path{_attrs(d=d, stroke=spec.get('gridcolor') or _GRID, stroke_width=1.0)}/>")
        if (
            axis.kind == "linear"
            and spec.get("zeroline", True) is not False
            and axis.inside(0.0)
            and 0.0 not in (axis.lo, axis.hi)
        ):
            d = _across(axis.px(0.0), frame, across)
            under.append(f"<path{_attrs(d=d, stroke=spec.get('zerolinecolor') or _INK, stroke_width=1.0)}/>")
        if _labelled(axis):
            over += _tick_labels(axis, ticks, frame, across)
        over += _axis_title(axis, ticks, frame, across)
    return under, over


def _across(at: float, frame: Frame, vertical: bool) -> str:
    return (
        f"M{_n(at)} {_n(frame.top)}V{_n(frame.bottom)}" if vertical else f"M{_n(frame.left)} {_n(at)}H{_n(frame.right)}"
    )


def _tick_labels(axis: Axis, ticks: Sequence[Tick], frame: Frame, across: bool) -> list[str]:
    size, out = frame.font, []
    right = axis.spec.get("side") == "right"
    for tick in ticks:
        at = axis.px(tick.value)
        if across:
            half = max(_text_width(tick.label, size), _text_width(tick.header, size)) / 2
            if not frame.left - 1 <= at <= frame.right + 1 or at - half < 0 or at + half > frame.width:
                continue  # a label cut by the edge of the picture says nothing
            out.append(_text(tick.label, at, frame.bottom + size * 1.2 + 2, size, frame.ink, "middle"))
            if tick.header:
                out.append(_text(tick.header, at, frame.bottom + size * 2.4 + 2, size, frame.ink, "middle"))
        elif right:
            out.append(_text(tick.label, frame.right + 6, at + size * 0.35, size, frame.ink, "start"))
        else:
            out.append(_text(tick.label, frame.left - 6, at + size * 0.35, size, frame.ink, "end"))
    return out


def _axis_title(axis: Axis, ticks: Sequence[Tick], frame: Frame, across: bool) -> list[str]:
    title = _title_text(axis.spec.get("title"))
    if not title:
        return []
    size = float(_number(_get(axis.spec, "title", "font", "size")) or frame.font)
    if across:
        y = frame.bottom + frame.x_label_height + size * 1.2
        return [_text(title, (frame.left + frame.right) / 2, y, size, frame.ink, "middle")]
    labels = max((_text_width(t.label, frame.font) for t in ticks), default=0.0) if _labelled(axis) else 0.0
    right = axis.spec.get("side") == "right"
    x = frame.right + labels + 8 + size * 0.8 if right else frame.left - labels - 8 - size * 0.3
    y = (frame.top + frame.bottom) / 2
    return [_text(title, x, y, size, frame.ink, "middle", transform=f"rotate(-90 {_n(x)} {_n(y)})")]


def _legend_items(layout: Mapping[str, Any], series: Sequence[Series]) -> list[Series]:
    shown = layout.get("showlegend")
    items = [s for s in series if s.trace.get("showlegend", True) is not False and s.name]
    if shown is False or (shown is None and len(items) < 2):
        return []
    return items[::-1] if "reversed" in str(_get(layout, "legend", "traceorder", default="")) else items


def _legend_rows(items: Sequence[Series], available: float, font: float) -> list[list[tuple[Series, float]]]:
    rows: list[list[tuple[Series, float]]] = []
    used = available + 1
    for item in items:
        width = SWATCH + 6 + _text_width(item.name, font) + 16
        if used + width > available and (not rows or rows[-1]):
            rows.append([])
            used = 0.0
        rows[-1].append((item, width))
        used += width
    return rows


def _legend_svg(layout: Mapping[str, Any], series: Sequence[Series], frame: Frame) -> list[str]:
    rows = _legend_rows(_legend_items(layout, series), frame.right - frame.left, frame.font)
    out = []
    top = frame.bottom + frame.x_label_height + frame.x_title_height + 6
    for number, row in enumerate(rows):
        y, x = top + number * LEGEND_ROW + LEGEND_ROW / 2, frame.left
        for item, width in row:
            out += _swatch(item, x, y)
            out.append(_text(item.name, x + SWATCH + 6, y + frame.font * 0.35, frame.font, frame.ink))
            x += width
    return out


def _swatch(item: Series, x: float, y: float) -> list[str]:
    trace = item.trace
    if item.kind == "bar" or (trace.get("fill") and not item.lines):
        colour = item.colour if item.kind == "bar" else trace.get("fillcolor") or item.colour
        return [f"<path{_attrs(d=f'M{_n(x + 9)} {_n(y - 6)}h12v12h-12Z', fill=colour)}/>"]
    out = []
    if item.lines:
        width = float(_get(trace, "line", "width", default=2))
        dash = _dash(_get(trace, "line", "dash"), width)
        out.append(
            f"<path{_attrs(d=f'M{_n(x)} {_n(y)}h{SWATCH}', stroke=item.colour, stroke_width=min(width, 4.0), stroke_dasharray=dash)}/>"
        )
    if item.markers:
        marker = trace.get("marker") or {}
        symbol = marker.get("symbol")
        size = min(_marker_size(trace), 10.0)
        look = {
            "symbol": str(symbol[0] if isinstance(symbol, list) and symbol else symbol or "circle"),
            "size": size,
            "color": str(marker.get("color") if isinstance(marker.get("color"), str) else item.colour),
        }
        out += _markers(Series({"marker": look}, item.index, item.x_axis, item.y_axis), [(x + SWATCH / 2, y)])
    return out


# --- summary and the whole figure ----------------------------------------------------------


def _say(value: float, axis: Axis) -> str:
    if axis.kind == "date":
        return _iso_day(value)
    if axis.kind == "category" and value.is_integer() and 0 <= value < len(axis.categories):
        return axis.categories[int(value)]
    return f"{value:g}".replace("-", "\u2212")


def _series_sentence(item: Series, words: Mapping[str, str], fallback: str) -> str:
    name = item.name or fallback
    position, value = (item.y_axis, item.x_axis) if item.horizontal else (item.x_axis, item.y_axis)
    pairs = sorted((p, v) for _, p, v in ((i, *((y, x) if item.horizontal else (x, y))) for i, x, y in item.points()))
    if not pairs:
        return ""
    if position.kind == "category":
        listed = ", ".join(f"{_say(p, position)} {_say(v, value)}" for p, v in pairs[:12])
        return words["categories"] % {"name": name, "pairs": listed}
    first, last = _say(pairs[0][0], position), _say(pairs[-1][0], position)
    if not value.visible:
        return words["events"] % {"name": name, "count": len(pairs), "first": first, "last": last}
    latest = _say(pairs[-1][1], value)
    if len(pairs) == 1:
        return words["single"] % {"name": name, "latest": latest, "last": last}
    return words["series"] % {"name": name, "count": len(pairs), "first": first, "last": last, "latest": latest}


def _summary(
    series: Sequence[Series],
    skipped: Sequence[Mapping[str, Any]],
    notes: Sequence[str],
    words: Mapping[str, str],
    title: str,
) -> list[str]:
    """One sentence per series (band edges that only bound a fill are left out), one per
    trace that is not drawn here; with neither, the figure's own notes ("No data yet")."""
    sentences = [_series_sentence(item, words, title) for item in series if item.trace.get("hoverinfo") != "skip"]
    sentences += [words["not_drawn"] % {"name": _plain(t.get("name") or t.get("type") or title)} for t in skipped]
    sentences = [s for s in sentences if s]
    return sentences or [n for n in notes if n] or [words["no_series"]]


def figure_svg(
    fig: Mapping[str, Any],
    *,
    title: str,
    lang: str = "en",
    width: int = DEFAULT_WIDTH,
    uid: str = "chart",
    words: Mapping[str, str] | None = None,
    height: int = 450,
) -> str:
    """The figure as one ``<svg role="img">`` element, ``width`` user units wide and the
    figure's height tall (``height`` for a figure without one: what its container gives
    plotly), scaling down to a narrower container. ``uid`` makes the ids
    of its title, description and clip path unique in the page; ``words`` are the
    summary's sentences in the page's language (see WORDS); ``lang`` names the months."""
    layout = fig.get("layout") or {}
    axes = {
        "x": Axis("x", layout.get("xaxis") or {}),
        "y": Axis("y", layout.get("yaxis") or {}),
        "y2": Axis("y2", layout.get("yaxis2") or {"visible": False}),
    }
    series, skipped = _series(fig, axes)
    _bar_layout(series, layout)
    frame = _frame(layout, axes, series, width, lang, height)
    uid = _UID.sub("-", uid)
    heading = _title_text(layout.get("title"))
    notes = [_plain(n.get("text") or "") for n in layout.get("annotations") or () if isinstance(n, Mapping)]
    sentences = _summary(series, skipped, notes, {**WORDS, **(words or {})}, title or heading)
    under, over = _axes_svg(axes, frame, lang)
    shapes = [s for s in layout.get("shapes") or () if isinstance(s, Mapping)]
    below = [_shape_svg(s, axes, frame) for s in shapes if s.get("layer") == "below"]
    above = [_shape_svg(s, axes, frame) for s in shapes if s.get("layer") != "below"]
    clip = f"url(#{uid}-clip)"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-static"{_attrs(viewBox=f"0 0 {width} {_n(frame.height)}", width="100%", height=_n(frame.height))}'
        f' role="img" aria-labelledby="{uid}-title {uid}-desc" focusable="false">',
        f'<title id="{uid}-title">{escape(title or heading)}</title><desc id="{uid}-desc">{escape(" ".join(sentences))}</desc>',
        f'<defs><clipPath id="{uid}-clip"><rect{_attrs(x=frame.left, y=frame.top, width=frame.right - frame.left, height=frame.bottom - frame.top)}/></clipPath></defs>',
        f'<g clip-path="{clip}">{"".join(below)}</g>',
        *under,
        f'<g clip-path="{clip}">{"".join(_traces_svg(series, frame))}{"".join(above)}</g>',
        *over,
        *(_annotation_svg(n, axes, frame) for n in layout.get("annotations") or () if isinstance(n, Mapping)),
        *_legend_svg(layout, series, frame),
        *_heading_svg(heading, layout, frame),
        *_fallback_svg(series, skipped, sentences, frame),
        "</svg>",
    ]
    return "".join(parts)


def _traces_svg(series: Sequence[Series], frame: Frame) -> list[str]:
    out: list[str] = []
    previous: Series | None = None
    for item in series:
        if item.kind == "bar":
            out += _bar_svg(item, frame.font, frame.ink)
        else:
            out += _scatter_svg(item, previous)
            previous = item
    return out


def _heading_svg(heading: str, layout: Mapping[str, Any], frame: Frame) -> list[str]:
    if not heading:
        return []
    size = float(_number(_get(layout, "title", "font", "size")) or frame.font * 1.4)
    return [_text(heading, 8, frame.top / 2 + size * 0.35, size, frame.ink)]


def _fallback_svg(
    series: Sequence[Series], skipped: Sequence[Any], sentences: Sequence[str], frame: Frame
) -> list[str]:
    """Nothing here could be drawn: say what the chart holds instead."""
    if series or not skipped:
        return []
    middle = (frame.left + frame.right) / 2
    top = (frame.top + frame.bottom) / 2 - (len(sentences) - 1) * frame.font * 0.7
    return [_text(s, middle, top + i * frame.font * 1.4, frame.font, _INK, "middle") for i, s in enumerate(sentences)]
