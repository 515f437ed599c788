"""The cohort waterfall: one bar per patient in a small cohort, a fixed number of grouped
bars in a large one, so the dashboard weighs the same whatever the cohort's size."""

from __future__ import annotations

import itertools
import json
import random

import pytest

from frontend import cohort_charts
from frontend.cohort_charts import WATERFALL_MAX_BARS, waterfall, waterfall_bars


def changes(n: int, seed: int = 5) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-100, 60) for _ in range(n)]


def test_small_cohort_one_bar_per_patient() -> None:
    values = [-10.0, -75.0, 20.0, -40.0, float("nan")]
    bar = waterfall(values).to_plotly_json()["data"][0]
    assert list(bar["y"]) == [20.0, -10.0, -40.0, -75.0]  # the NaN is left out
    assert list(bar["x"]) == [1, 2, 3, 4]
    assert list(bar["marker"]["color"]) == [
        cohort_charts.GREY,
        cohort_charts.GREY,
        cohort_charts.TEAL,
        cohort_charts.GREEN,
    ]
    assert "width" not in bar
    assert "customdata" not in bar


@pytest.mark.parametrize("n", [WATERFALL_MAX_BARS + 1, 5_000, 20_000, 100_000])
def test_large_cohort_is_grouped_without_losing_anyone(n: int) -> None:
    values = sorted(changes(n), reverse=True)
    bars = waterfall_bars(values)
    assert len(bars) <= WATERFALL_MAX_BARS + 2
    # Every patient in exactly one bar, in order.
    assert bars[0].first == 1
    assert bars[-1].last == n
    assert all(a.last + 1 == b.first for a, b in itertools.pairwise(bars))
    for bar in bars:
        group = values[bar.first - 1 : bar.last]
        assert (bar.high, bar.low) == (group[0], group[-1])
        assert bar.low <= bar.median <= bar.high
        # A bar never mixes responder categories: its colour holds for every patient in it.
        assert len({cohort_charts._responder_band(v) for v in group}) == 1
    sizes = [bar.last - bar.first + 1 for bar in bars]
    assert max(sizes) <= -(-n // WATERFALL_MAX_BARS)


def test_grouped_bars_are_as_wide_as_their_group_and_say_so() -> None:
    fig = waterfall(changes(20_000), labels={"patients_short": "Patients", "median": "median"}).to_plotly_json()
    bar = fig["data"][0]
    assert sum(bar["width"]) == 20_000
    assert list(bar["y"]) == sorted(bar["y"], reverse=True)
    assert all(low <= y <= high for (_first, _last, low, high), y in zip(bar["customdata"], bar["y"], strict=True))
    assert "customdata[0]" in bar["hovertemplate"]
    assert "median" in bar["hovertemplate"]
    assert fig["layout"]["xaxis"]["range"] == [0.5, 20_000.5]
    assert "group" in fig["layout"]["xaxis"]["title"]["text"]


def test_figure_size_does_not_grow_with_the_cohort() -> None:
    sizes = {n: len(json.dumps(cohort_charts.as_json_data(waterfall(changes(n))))) for n in (1_000, 5_000, 100_000)}
    assert max(sizes.values()) < 24_000, sizes  # plotly's template alone is 7 kB of it
    assert sizes[100_000] < 1.2 * sizes[1_000], sizes


def test_figures_carry_only_the_cartesian_part_of_plotlys_template() -> None:
    import plotly.io as pio

    full = pio.templates["plotly"].to_plotly_json()
    template = cohort_charts.as_json_data(waterfall(changes(10)))["layout"]["template"]
    assert len(json.dumps(template)) < 1_500
    for key, value in template["layout"].items():  # what is kept is plotly's, unchanged
        assert value == full["layout"][key], key
    for key in ("xaxis", "yaxis", "font", "colorway", "plot_bgcolor"):
        assert key in template["layout"]
    assert set(template["data"]) == {"bar", "scatter"}
