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

  // Plotly is fetched once the page is parsed (tables and filters first, charts after); the
  // zh-CN locale follows it on Chinese pages.
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
        plotlyReady = null;
        throw error;
      });
    }
    return plotlyReady;
  }

  function draw(root) {
    if (!PLOTLY_URL || !root.querySelector("[data-chart]")) return;
    plotly().then(function () { drawNow(root); }).catch(function () {});
  }

  function drawNow(root) {
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
