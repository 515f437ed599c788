/* Manager outcomes: draw every chart whose figure JSON sits in a json_script tag named by
 * the chart element's data-chart attribute; again after htmx swaps a filtered result in. */
(function () {
  "use strict";

  var ZH_MONTHS = ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"];
  var CONFIG = {
    responsive: true,
    displayModeBar: false,
    // Month names in the page's language (the zh-CN locale file is loaded on Chinese pages).
    locale: /^zh/i.test(document.documentElement.lang) ? "zh-CN" : "en",
    locales: { "zh-CN": { format: { shortMonths: ZH_MONTHS } } },
  };

  function draw(root) {
    if (!window.Plotly) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var fig = JSON.parse(source.textContent);
      window.Plotly.react(el, fig.data, fig.layout, CONFIG).then(function () {
        el.setAttribute("data-drawn", String(Date.now()));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.body.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
