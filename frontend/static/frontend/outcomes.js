/* Manager outcomes: draw every chart whose figure JSON sits in a json_script tag named by
 * the chart element's data-chart attribute, in place of the static SVG the server put there;
 * again after htmx swaps a filtered result in. */
(function () {
  "use strict";

  var CONFIG = {
    responsive: true,
    displayModeBar: false,
    locale: window.rehabPlotlyLocale.locale,
    locales: window.rehabPlotlyLocale.locales,
  };

  function draw(root) {
    if (!root.querySelector("[data-chart]")) return;
    window.rehabPlotly().then(function () { drawNow(root); }).catch(function () {});
  }

  function drawNow(root) {
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var fig = JSON.parse(source.textContent);
      // The server's static SVG showed the chart until plotly arrived: the interactive one takes its place.
      var placeholder = el.querySelector("svg.chart-static");
      if (placeholder) placeholder.remove();
      el.removeAttribute("data-static-drawn");
      window.Plotly.react(el, fig.data, fig.layout, CONFIG).then(function () {
        el.setAttribute("data-drawn", String(Date.now()));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.body.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
