/* Manager outcomes: draw every chart whose figure JSON sits in a json_script tag named by
 * the chart element's data-chart attribute; again after htmx swaps a filtered result in. */
(function () {
  "use strict";

  function draw(root) {
    if (!window.Plotly) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var fig = JSON.parse(source.textContent);
      window.Plotly.react(el, fig.data, fig.layout, {responsive: true, displayModeBar: false, locale: /^zh/i.test(document.documentElement.lang) ? "zh-CN" : "en"}).then(function () {
        el.setAttribute("data-drawn", String(Date.now()));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.body.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
