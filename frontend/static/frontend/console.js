/* Therapist console: draw the plotly figures the server rendered into the page.
 *
 * Each chart is a <div data-figure="ID"> next to a <script type="application/json" id="ID">
 * holding {data, layout}. Figures are drawn on page load and again whenever htmx swaps new
 * content in (including out-of-band swaps after a clinic entry is saved), so the server
 * stays the only place that builds figures.
 */
(function () {
  "use strict";

  // "11月 8" on date ticks; plotly's zh-CN locale abbreviates months to bare numerals ("十一 8").
  var ZH_MONTHS = ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"];

  var CONFIG = {
    displaylogo: false,
    displayModeBar: "hover",
    responsive: true,
    modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d", "toImage"],
    // Month and day names in the page's language (the zh-CN locale file is loaded on Chinese pages).
    locale: /^zh/i.test(document.documentElement.lang) ? "zh-CN" : "en",
    locales: { "zh-CN": { format: { shortMonths: ZH_MONTHS } } },
  };

  function figuresIn(root) {
    var found = [];
    if (root.matches && root.matches("[data-figure]")) found.push(root);
    if (root.querySelectorAll) found = found.concat(Array.prototype.slice.call(root.querySelectorAll("[data-figure]")));
    return found;
  }

  function draw(root) {
    if (!window.Plotly) return;
    figuresIn(root).forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-figure"));
      if (!source) return;
      var figure = JSON.parse(source.textContent);
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
