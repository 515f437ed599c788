"""``{% static_chart figure title=... uid=... width=... %}``: a plotly figure as static SVG.

The chart is in the page's HTML, so it shows at first paint; the page's chart script
replaces it with the interactive plotly chart once plotly has loaded. ``figure`` is the
figure dict or its JSON text (as the console's figures travel).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from frontend import svg_charts

register = template.Library()


def _words() -> dict[str, str]:
    return {
        # Translators: the text summary of a chart series; first/last are dates or numbers.
        "series": gettext("%(name)s: %(count)s values from %(first)s to %(last)s, latest %(latest)s."),
        "single": gettext("%(name)s: %(latest)s on %(last)s."),
        "events": gettext("%(name)s: %(count)s entries from %(first)s to %(last)s."),
        "categories": gettext("%(name)s: %(pairs)s."),
        "not_drawn": gettext("%(name)s: shown in the interactive chart."),
        "no_series": gettext("No data yet"),
    }


@register.simple_tag
def static_chart(
    figure: Mapping[str, Any] | str,
    *,
    title: str = "",
    uid: str = "chart",
    width: int = svg_charts.DEFAULT_WIDTH,
    height: int = 450,
) -> SafeString:
    """``height``: the figure's own, else the height its container gives the plotly chart."""
    fig = json.loads(figure) if isinstance(figure, str) else figure
    svg = svg_charts.figure_svg(
        fig,
        title=str(title),
        lang=get_language() or "en",
        width=int(width),
        height=int(height),
        uid=f"static-{uid}",
        words=_words(),
    )
    return mark_safe(svg)  # noqa: S308  (svg_charts escapes every piece of text it writes)
