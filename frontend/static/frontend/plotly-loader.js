/* Plotly for the console and the outcomes page: fetched only once the page is parsed, so
 * text and forms work first and charts follow. The script tag names plotly in data-plotly
 * and, on Chinese pages, plotly's zh-CN locale in data-plotly-locale. Pages call
 * window.rehabPlotly() for a promise of Plotly and spread window.rehabPlotlyLocale into their
 * chart config. Load it before the page's own chart script (both deferred keep their order). */
(function () {
  "use strict";

  var script = document.currentScript;
  var PLOTLY_URL = script && script.getAttribute("data-plotly");
  var LOCALE_URL = script && script.getAttribute("data-plotly-locale");
  // "11月 8" on date ticks; plotly's zh-CN locale abbreviates months to bare numerals ("十一 8").
  var ZH_MONTHS = ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"];
  var ready = null;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = src;
      tag.onload = resolve;
      tag.onerror = reject;
      document.head.appendChild(tag);
    });
  }

  window.rehabPlotly = function () {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!PLOTLY_URL) return Promise.reject(new Error("no plotly on this page"));
    if (!ready) {
      ready = loadScript(PLOTLY_URL).then(function () {
        return LOCALE_URL ? loadScript(LOCALE_URL).catch(function () {}) : null;
      }).then(function () { return window.Plotly; }, function (error) {
        ready = null;  // try again at the next draw
        throw error;
      });
    }
    return ready;
  };

  // Month and day names in the page's language.
  window.rehabPlotlyLocale = {
    locale: /^zh/i.test(document.documentElement.lang) ? "zh-CN" : "en",
    locales: { "zh-CN": { format: { shortMonths: ZH_MONTHS } } },
  };
})();
