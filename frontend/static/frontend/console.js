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

  // Plotly (the page's heaviest file) is fetched only once the page is parsed and its forms
  // work: text and forms first, charts after. The zh-CN locale follows plotly on Chinese pages.
  var script = document.currentScript;
  var PLOTLY_URL = script && script.getAttribute("data-plotly");
  var LOCALE_URL = script && script.getAttribute("data-plotly-locale");
  var plotlyReady = null;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = src;
      tag.onload = resolve;
      tag.onerror = reject;
      document.head.appendChild(tag);
    });
  }

  function plotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!plotlyReady) {
      plotlyReady = loadScript(PLOTLY_URL).then(function () {
        return LOCALE_URL ? loadScript(LOCALE_URL).catch(function () {}) : null;
      }).then(function () { return window.Plotly; }, function (error) {
        plotlyReady = null;  // try again at the next swap
        throw error;
      });
    }
    return plotlyReady;
  }

  function draw(root) {
    var found = figuresIn(root);
    if (!found.length || !PLOTLY_URL) return;
    plotly().then(function () { drawNow(found); }).catch(function () {});
  }

  function drawNow(found) {
    found.forEach(function (el) {
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
