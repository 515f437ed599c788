/* Therapist console: draw the plotly figures the server rendered into the page.
 *
 * Each chart is a <div data-figure="ID"> next to a <script type="application/json" id="ID">
 * holding {data, layout}. The server has already put a static SVG of the figure inside the
 * <div> (marked data-static-drawn), so the chart shows at first paint; once plotly has
 * loaded it replaces that SVG with the interactive chart (marked data-drawn). Figures are
 * drawn on page load and again whenever htmx swaps new content in (including out-of-band
 * swaps after a clinic entry is saved), so the server stays the only place that builds
 * figures.
 */
(function () {
  "use strict";

  var CONFIG = {
    displaylogo: false,
    displayModeBar: "hover",
    responsive: true,
    modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d", "toImage"],
    locale: window.rehabPlotlyLocale.locale,
    locales: window.rehabPlotlyLocale.locales,
  };

  function figuresIn(root) {
    var found = [];
    if (root.matches && root.matches("[data-figure]")) found.push(root);
    if (root.querySelectorAll) found = found.concat(Array.prototype.slice.call(root.querySelectorAll("[data-figure]")));
    return found;
  }

  function draw(root) {
    var found = figuresIn(root);
    if (!found.length) return;
    window.rehabPlotly().then(function () { drawNow(found); }).catch(function () {});
  }

  function drawNow(found) {
    found.forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-figure"));
      if (!source) return;
      var figure = JSON.parse(source.textContent);
      // The server's static SVG held the place until now: the interactive chart takes over
      // in the same task, so no frame shows an empty container.
      var placeholder = el.querySelector("svg.chart-static");
      if (placeholder) placeholder.remove();
      el.removeAttribute("data-static-drawn");
      window.Plotly.react(el, figure.data, figure.layout, CONFIG).then(function () {
        el.setAttribute("data-drawn", String(Date.now()));
      });
    });
  }

  if (window.htmx) {
    window.htmx.onLoad(draw);
  } else {
    document.addEventListener("DOMContentLoaded", function () { draw(document.body); });
  }
})();
