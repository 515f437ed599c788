/* The patient app at /app/: screens, entry forms, queue display, sync triggers.
 *
 * Everything the patient logs goes through RehabQueue (queue.js) first; this file only
 * decides when to send: at app open, on the "online" event, right after an entry when
 * the phone says it is online, on "Send now", and through Background Sync in sw.js.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("app-config").textContent);
  var S = config.strings;
  var lang = config.lang;
  var urls = config.urls;
  var patient = config.patient;
  var Q = window.RehabQueue;
  var HOME_MODALITIES = ["exercise", "tens", "physical_agents", "medication"];
  var instruments = null;
  var instrumentsPromise = null;
  var planPromise = null;
  var entries = [];

  function $(id) { return document.getElementById(id); }
  function t(key, params) {
    var text = S[key] || key;
    Object.keys(params || {}).forEach(function (name) { text = text.split("%(" + name + ")s").join(String(params[name])); });
    return text;
  }
  function label(text) {
    if (!text) return "";
    if (typeof text === "string") return text;
    return text[lang] || text.en || "";
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key.indexOf("on") === 0) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child); });
    return node;
  }
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (response) {
      if (!response.ok) { var error = new Error("HTTP " + response.status); error.status = response.status; throw error; }
      return response.json();
    });
  }
  function sendJson(url, method, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body)
    });
  }
  function timeText(ms) {
    try {
      return new Date(ms).toLocaleString(lang === "zh-hans" ? "zh-CN" : undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
    } catch (e) { return new Date(ms).toISOString(); }
  }

  var toastTimer = null;
  function toast(message) {
    var node = $("toast");
    node.textContent = message;
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { node.hidden = true; }, 5000);
  }

  /* ------------------------------------------------------------------ instruments */

  function loadInstruments() {
    if (instruments) return Promise.resolve(instruments);
    if (!instrumentsPromise) {
      instrumentsPromise = getJson(urls.instruments).catch(function () {
        // No service worker yet (first visit) and no network: try the Cache API directly.
        if (!window.caches) return null;
        return caches.match(urls.instruments).then(function (hit) { return hit ? hit.json() : null; });
      }).then(function (data) {
        instrumentsPromise = null;
        // A plain JSON list (older servers wrapped it in {"results": [...]}).
        var list = Array.isArray(data) ? data : (data && data.results);
        if (list && list.length) {
          instruments = {};
          list.forEach(function (instrument) { instruments[instrument.code] = instrument; });
        }
        return instruments;
      });
    }
    return instrumentsPromise;
  }
  function itemOf(code, key) {
    var instrument = instruments && instruments[code];
    if (!instrument) return null;
    for (var i = 0; i < instrument.items.length; i += 1) if (instrument.items[i].key === key) return instrument.items[i];
    return null;
  }

  /* ------------------------------------------------------------------ screens */

  var screens = {};
  Array.prototype.forEach.call(document.querySelectorAll("[data-screen]"), function (node) { screens[node.dataset.screen] = node; });
  var firstRoute = true;

  function show(name, tab) {
    Object.keys(screens).forEach(function (key) { screens[key].hidden = key !== name; });
    Array.prototype.forEach.call(document.querySelectorAll("[data-tab]"), function (link) {
      if (link.dataset.tab === (tab || name)) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
    if (!firstRoute) {
      window.scrollTo(0, 0);
      var heading = screens[name].querySelector("h1");
      if (heading) heading.focus();
    }
    firstRoute = false;
  }

  function route() {
    var parts = (location.hash.replace(/^#/, "") || "today").split("/");
    switch (parts[0]) {
      case "log": if (parts[1] === "vas") startVas(); else startNrs(); break;
      case "q": startQuestionnaire(parts[1]); break;
      case "progress": showProgress(); break;
      case "plan": showPlan(); break;
      case "settings": showSettings(); break;
      default: showToday();
    }
  }
  function go(hash) {
    if (location.hash === hash) route(); else location.hash = hash;
  }

  /* ------------------------------------------------------------------ saving and syncing */

  var syncing = null;
  var retryTimer = null;
  var retryDelay = 0;
  function syncNow(reason) {
    if (syncing) return syncing;
    clearTimeout(retryTimer);
    syncing = Q.setMeta("csrf", csrfToken()).then(function () {
      return Q.sync({ csrf: csrfToken() });
    }).then(function (summary) {
      syncing = null;
      if (summary.auth) toast(t("sign_in_again"));
      if (summary.sent) { refreshProgress(); loadDue(); }
      scheduleRetry(summary);
      return renderQueue().then(function () { return summary; });
    }, function () {
      syncing = null;
      return renderQueue();
    });
    return syncing;
  }

  /* The network often comes back in steps (the "online" event can beat the first working
   * request): while the app is open and entries still wait, try again after 3 s, 6 s, ...
   * up to a minute, and leave a Background Sync behind for when the app is closed. */
  function scheduleRetry(summary) {
    if (!summary.offline || !summary.pending || summary.auth) { retryDelay = 0; return; }
    requestBackgroundSync();
    retryDelay = Math.min(retryDelay ? retryDelay * 2 : 3000, 60000);
    retryTimer = setTimeout(function () { if (navigator.onLine) syncNow("retry"); }, retryDelay);
  }

  function requestBackgroundSync() {
    if (!("serviceWorker" in navigator)) return Promise.resolve(false);
    return navigator.serviceWorker.ready.then(function (registration) {
      if (!registration.sync) return false;
      return registration.sync.register(Q.SYNC_TAG).then(function () { return true; });
    }).catch(function () { return false; });
  }

  function save(kind, body, extra) {
    return Q.enqueue(patient, kind, body, extra).then(function (row) {
      return renderQueue().then(function () {
        requestBackgroundSync();
        if (!navigator.onLine) { toast(t("saved_queued")); return row; }
        return syncNow("save").then(function () {
          var stored = entries.filter(function (e) { return e.client_uuid === row.client_uuid; })[0];
          toast(stored && stored.state === "synced" ? t("saved_sent") : t("saved_queued"));
          return row;
        });
      });
    });
  }

  var STATE_CLASS = { queued: "badge-amber", sending: "badge-amber", synced: "badge-green", rejected: "badge-red" };

  function renderQueue() {
    return Q.list(patient).then(function (rows) {
      entries = rows;
      var list = $("queue-list");
      list.textContent = "";
      var waiting = rows.filter(function (r) { return r.state === "queued"; }).length;
      var rejected = rows.filter(function (r) { return r.state === "rejected"; }).length;
      var summary = [];
      if (waiting) summary.push(waiting + " × " + t("state_queued"));
      if (rejected) summary.push(rejected + " × " + t("state_rejected"));
      $("queue-summary").textContent = rows.length ? summary.join(" · ") : t("no_entries");
      $("sync-now").hidden = !waiting;
      rows.slice(0, 30).forEach(function (row) {
        var item = el("li", { className: "queue-item", "data-state": row.state, "data-uuid": row.client_uuid }, [
          el("div", { className: "queue-main" }, [
            el("span", { className: "queue-label", text: row.label || row.body.instrument || "" }),
            el("span", { className: "queue-time muted", text: timeText(row.created_at) })
          ]),
          el("span", { className: "badge " + STATE_CLASS[row.state], text: t("state_" + row.state) })
        ]);
        if (row.state === "rejected") {
          item.appendChild(el("p", { className: "queue-reason", text: row.reason || t("reason_unknown") }));
          item.appendChild(el("button", { type: "button", className: "secondary small", text: t("dismiss"), onclick: function () {
            Q.remove(row.client_uuid).then(renderQueue);
          } }));
        }
        list.appendChild(item);
      });
      markDoneToday();
    });
  }

  function todayEntries() {
    var today = Q.localDate(new Date());
    return entries.filter(function (row) { return Q.localDate(new Date(row.created_at)) === today && row.state !== "rejected"; });
  }

  /* ------------------------------------------------------------------ today */

  function showToday() {
    show("today");
    renderQueue();
  }

  var dueLoaded = false;
  function loadDue() {
    return getJson(urls.due).then(function (data) {
      var rows = Array.isArray(data) ? data : (data.results || data.items || data.due || []);
      renderDue(rows.filter(function (row) { return !row.status || row.status === "pending"; }));
    }).catch(function () {
      // No reminders API (404) or offline with nothing cached: the pain diary is always open.
      if (!dueLoaded) $("nothing-due").hidden = true;
    });
  }

  function clock(date) {
    return date.toLocaleTimeString(lang === "zh-hans" ? "zh-CN" : undefined, { hour: "2-digit", minute: "2-digit" });
  }

  function friendlyName(code) {
    var link = document.querySelector("#other-list [data-instrument='" + code + "'] .task-name");
    return link ? link.textContent : "";
  }

  function instrumentName(code) {
    if (friendlyName(code)) return friendlyName(code);
    return instruments && instruments[code] ? label(instruments[code].name) : code.toUpperCase();
  }

  function renderDue(rows) {
    dueLoaded = true;
    var list = $("due-list");
    Array.prototype.forEach.call(list.querySelectorAll("li[data-due]"), function (li) { list.removeChild(li); });
    Array.prototype.forEach.call(document.querySelectorAll("#other-list li"), function (li) { li.hidden = false; });
    var questionnaires = 0;
    var seen = {};
    rows.forEach(function (row) {
      var code = row.instrument;
      if (!code || seen[code]) return;
      seen[code] = true;
      var opens = row.due_at ? new Date(row.due_at) : null;
      var closes = row.closes_at ? new Date(row.closes_at) : null;
      var meta = t("due_today");
      if (row.is_open === false && opens && opens > new Date()) meta += " · " + t("due_from", { time: clock(opens) });
      else if (closes && !isNaN(closes)) meta += " · " + t("due_until", { time: clock(closes) });
      if (code === "nrs" || code === "vas") {
        var slot = document.querySelector("[data-due-meta='" + code + "']");
        if (slot) slot.textContent = meta;
        return;
      }
      questionnaires += 1;
      var other = document.querySelector("#other-list [data-instrument='" + code + "']");
      if (other) other.parentNode.hidden = true;
      list.appendChild(el("li", { "data-due": code }, [
        el("a", { className: "task task-due", href: "#q/" + code, "data-instrument": code }, [
          el("span", { className: "task-name", text: friendlyName(code) || label(row.name) || instrumentName(code) }),
          el("span", { className: "task-meta", "data-due-meta": code, text: meta })
        ])
      ]));
    });
    $("nothing-due").hidden = questionnaires > 0;
    markDoneToday();
  }

  function markDoneToday() {
    var done = {};
    todayEntries().forEach(function (row) { if (row.kind === "assessment") done[row.body.instrument] = true; });
    Array.prototype.forEach.call(document.querySelectorAll("#due-list [data-instrument]"), function (link) {
      var code = link.dataset.instrument;
      link.classList.toggle("task-done", !!done[code]);
      var meta = link.querySelector(".task-meta");
      if (meta && done[code]) meta.textContent = t("done_today");
    });
    renderExercises();
  }

  /* ------------------------------------------------------------------ home exercise and plan */

  function loadPlan(force) {
    if (!planPromise || force) {
      planPromise = getJson(urls.plan).then(function (plan) { return { plan: plan }; }, function (error) {
        var missing = !!error && error.status === 404;
        if (!missing) planPromise = null;  // offline or a server error: ask again next time
        return { plan: null, missing: missing };
      });
    }
    return planPromise;
  }

  function planState(plan) {
    return plan.status === "scheduled" ? t("plan_scheduled", { date: plan.start_date || "" })
      : t("plan_ended", { date: plan.end_date || "" });
  }

  function perWeek(n) { return n === 1 ? t("per_week_one") : t("per_week", { n: n }); }

  function componentName(component) {
    return label(component.name) || component.modality;
  }

  function renderExercises() {
    return loadPlan().then(function (result) {
      var list = $("exercise-list");
      list.textContent = "";
      // Only a running plan has exercise to mark done (the server refuses days after its end).
      var running = result.plan && (!result.plan.status || result.plan.status === "active");
      var components = running ? (result.plan.components || []).filter(function (c) {
        return c.home === true || HOME_MODALITIES.indexOf(c.modality) !== -1;
      }) : [];
      if (!components.length) {
        list.appendChild(el("li", { className: "muted", text: result.plan && !running ? planState(result.plan) :
          result.plan || result.missing ? t("exercise_none") : t("plan_unavailable") }));
        return;
      }
      var today = Q.localDate(new Date());
      var doneIds = {};
      entries.forEach(function (row) {
        if (row.kind === "home_exercise" && row.body.date === today && row.state !== "rejected") doneIds[row.body.component] = true;
      });
      components.forEach(function (component) {
        var done = !!doneIds[component.id];
        var button = el("button", {
          type: "button",
          className: done ? "exercise-btn done" : "exercise-btn",
          "aria-pressed": done ? "true" : "false",
          disabled: done,
          onclick: function () {
            button.disabled = true;
            save("home_exercise", { component: component.id, done: true, minutes: null, note: "" }, {
              url: urls.home_exercise,
              label: t("entry_exercise", { name: componentName(component) })
            });
          }
        }, [
          el("span", { className: "task-name", text: componentName(component) }),
          el("span", { className: "task-meta", text: (done ? t("exercise_done") : t("exercise_mark")) +
            (component.frequency_per_week ? " · " + perWeek(component.frequency_per_week) : "") })
        ]);
        list.appendChild(el("li", {}, [button]));
      });
    });
  }

  function showPlan() {
    show("plan");
    var lanes = $("plan-lanes");
    loadPlan(navigator.onLine).then(function (result) {
      lanes.textContent = "";
      if (!result.plan) {
        $("plan-meta").textContent = result.missing ? t("plan_none") : t("plan_unavailable");
        return;
      }
      var plan = result.plan;
      $("plan-meta").textContent = t("plan_version", { version: plan.version, date: plan.start_date || "" }) +
        (plan.status && plan.status !== "active" ? " · " + planState(plan) : "");
      [["central", "lane_central"], ["peripheral", "lane_peripheral"]].forEach(function (pair) {
        var components = plan[pair[0]] || (plan.components || []).filter(function (c) { return c.layer === pair[0]; });
        var list = el("ul", { className: "lane-list" });
        if (!components.length) list.appendChild(el("li", { className: "muted", text: t("lane_empty") }));
        components.forEach(function (component) {
          var facts = [];
          if (component.frequency_per_week) facts.push(perWeek(component.frequency_per_week));
          if (component.duration_weeks) facts.push(component.duration_weeks === 1 ? t("weeks_one") : t("weeks", { n: component.duration_weeks }));
          list.appendChild(el("li", { className: "lane-item" }, [
            el("strong", { text: componentName(component) }),
            facts.length ? el("span", { className: "muted", text: facts.join(", ") }) : null,
            component.notes ? el("p", { text: component.notes }) : null
          ]));
        });
        lanes.appendChild(el("section", { className: "lane lane-" + pair[0], "aria-label": t(pair[1]) }, [
          el("h2", { text: t(pair[1]) }), list
        ]));
      });
    });
  }

  /* ------------------------------------------------------------------ NRS */

  var nrsValue = null;
  function startNrs() {
    show("nrs", "today");
    nrsValue = null;
    $("nrs-save").disabled = true;
    Array.prototype.forEach.call(document.querySelectorAll(".nrs-btn"), function (b) { b.setAttribute("aria-pressed", "false"); });
    loadInstruments().then(function () {
      var score = itemOf("nrs", "score");
      if (!score) return;
      $("nrs-question").textContent = label(score.label);
      $("nrs-low").textContent = label(score.options[0].label);
      $("nrs-high").textContent = label(score.options[score.options.length - 1].label);
    });
  }
  $("nrs-grid").addEventListener("click", function (event) {
    var button = event.target.closest(".nrs-btn");
    if (!button) return;
    nrsValue = Number(button.dataset.value);
    Array.prototype.forEach.call(document.querySelectorAll(".nrs-btn"), function (b) { b.setAttribute("aria-pressed", String(b === button)); });
    $("nrs-save").disabled = false;
  });
  $("nrs-save").addEventListener("click", function () {
    if (nrsValue === null) { toast(t("nrs_pick")); return; }
    var value = nrsValue;
    $("nrs-save").disabled = true;
    save("assessment", { instrument: "nrs", answers: { score: value, recall: $("nrs-recall").value } }, { label: t("entry_nrs", { value: value }) })
      .then(function () { go("#today"); });
  });

  /* ------------------------------------------------------------------ VAS: no preselected mark */

  var vasValue = null;
  var track = $("vas-track");
  var thumb = $("vas-thumb");
  function setVas(mm) {
    vasValue = Math.round(Math.max(0, Math.min(100, mm)));
    thumb.hidden = false;
    thumb.style.left = "calc(12px + (100% - 24px) * " + (vasValue / 100) + ")";
    track.setAttribute("aria-valuenow", String(vasValue));
    track.setAttribute("aria-valuetext", t("vas_value", { mm: vasValue }));
    $("vas-hint").textContent = t("vas_marked");
    $("vas-save").disabled = false;
  }
  function vasFromPointer(event) {
    var line = track.querySelector(".vas-line").getBoundingClientRect();
    setVas((event.clientX - line.left) / line.width * 100);
  }
  function startVas() {
    show("vas", "today");
    vasValue = null;
    thumb.hidden = true;
    track.removeAttribute("aria-valuenow");
    track.setAttribute("aria-valuetext", track.dataset.unset || track.getAttribute("aria-valuetext"));
    $("vas-hint").textContent = t("vas_hint");
    $("vas-save").disabled = true;
    loadInstruments().then(function () {
      var item = itemOf("vas", "score_mm");
      if (item) $("vas-question").textContent = label(item.label);
    });
  }
  track.dataset.unset = track.getAttribute("aria-valuetext");
  track.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    track.focus();
    if (track.setPointerCapture) track.setPointerCapture(event.pointerId);
    vasFromPointer(event);
  });
  track.addEventListener("pointermove", function (event) {
    if (event.buttons || event.pointerType === "touch") { if (track.hasPointerCapture && track.hasPointerCapture(event.pointerId)) vasFromPointer(event); }
  });
  track.addEventListener("keydown", function (event) {
    var steps = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 10, PageDown: -10 };
    if (event.key === "Home") setVas(0);
    else if (event.key === "End") setVas(100);
    else if (steps[event.key]) {
      // Unmarked: start from the end the key moves away from, so nothing is suggested.
      var start = vasValue === null ? (steps[event.key] > 0 ? 0 : 100) : vasValue;
      setVas(start + steps[event.key]);
    } else return;
    event.preventDefault();
  });
  $("vas-save").addEventListener("click", function () {
    if (vasValue === null) return;
    var value = vasValue;
    $("vas-save").disabled = true;
    save("assessment", { instrument: "vas", answers: { score_mm: value } }, { label: t("entry_vas", { value: value }) })
      .then(function () { go("#today"); });
  });

  /* ------------------------------------------------------------------ questionnaires, one item per screen */

  var wizard = null;

  function wizardItems(code) {
    var instrument = instruments[code];
    return instrument.items.filter(function (item) {
      if (code === "dn4") return item.group === "interview";  // the examination items are the clinician's
      return item.kind === "choice" || item.kind === "boolean";
    });
  }

  function startQuestionnaire(code) {
    show("questionnaire", "today");
    $("q-options").textContent = "";
    $("q-title").textContent = "";
    loadInstruments().then(function () {
      if (!instruments || !instruments[code]) {
        $("q-title").textContent = t("instruments_missing");
        $("q-count").textContent = "";
        $("q-save").hidden = true;
        $("q-skip").hidden = true;
        return;
      }
      var instrument = instruments[code];
      wizard = { code: code, items: wizardItems(code), index: 0, answers: {} };
      $("q-name").textContent = instrumentName(code);
      $("q-instructions").textContent = label(instrument.instructions);
      renderItem();
    });
  }

  function applicable(item) {
    // PHQ-9: the difficulty question is asked only if any problem was checked off.
    if (wizard.code === "phq9" && item.key === "difficulty") {
      return Object.keys(wizard.answers).some(function (key) { return key !== "difficulty" && wizard.answers[key] > 0; });
    }
    return true;
  }
  function visibleItems() { return wizard.items.filter(applicable); }
  function countedItems() { return wizard.items.filter(function (item) { return item.required !== false; }); }

  function renderItem() {
    var items = visibleItems();
    var review = wizard.index >= items.length;
    var counted = countedItems();
    var options = $("q-options");
    options.textContent = "";
    $("q-review").hidden = !review;
    options.hidden = review;
    $("q-save").hidden = !review;
    $("q-instructions").hidden = review || wizard.index > 0;
    if (review) {
      var answered = counted.filter(function (item) { return wizard.answers[item.key] !== undefined && wizard.answers[item.key] !== null; }).length;
      $("q-title").textContent = t("review_title");
      $("q-review-text").textContent = t("review_text") + " " + t("answered_count", { count: answered, total: counted.length });
      $("q-count").textContent = t("progress_of", { current: counted.length, total: counted.length });
      $("q-bar").value = 1;
      $("q-skip").hidden = true;
      $("q-save").disabled = false;
      focusTitle();
      return;
    }
    var item = items[wizard.index];
    var position = counted.indexOf(item);
    // Optional follow-up items (PHQ-9 difficulty) are not counted in "3 / 9".
    $("q-count").textContent = position >= 0 ? t("progress_of", { current: position + 1, total: counted.length }) : "";
    $("q-bar").value = position >= 0 ? position / counted.length : 1;
    $("q-title").textContent = label(item.label);
    var current = wizard.answers[item.key];
    item.options.forEach(function (option) {
      var pressed = current === option.value;
      options.appendChild(el("button", {
        type: "button",
        className: "option",
        "aria-pressed": pressed ? "true" : "false",
        "data-value": JSON.stringify(option.value),
        text: label(option.label),
        onclick: function () { choose(item, option.value); }
      }));
    });
    var skip = $("q-skip");
    if (item.nullable && item.required !== false) { skip.hidden = false; skip.textContent = t("skip_na"); }
    else if (item.required === false) { skip.hidden = false; skip.textContent = t("skip"); }
    else skip.hidden = true;
    if (current !== undefined) {
      // Coming back to an answered item: offer "Next" as well as changing the answer.
      options.appendChild(el("button", { type: "button", className: "primary next", text: t("next"), onclick: function () { advance(); } }));
    }
    focusTitle();
  }

  function focusTitle() {
    window.scrollTo(0, 0);
    $("q-title").focus();
  }

  function choose(item, value) {
    wizard.answers[item.key] = value;
    Array.prototype.forEach.call($("q-options").querySelectorAll(".option"), function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.value === JSON.stringify(value)));
    });
    if (wizard.code === "phq9" && item.key === "item9" && value > 0) {
      // Safety first: show the crisis resources now, from the page itself (no network),
      // and wait for the patient to move on.
      showCrisis();
      if (!$("q-options").querySelector(".next")) {
        $("q-options").appendChild(el("button", { type: "button", className: "primary next", text: t("next"), onclick: function () { advance(); } }));
      }
      return;
    }
    setTimeout(advance, 180);
  }

  function advance() {
    if (!wizard) return;
    wizard.index += 1;
    renderItem();
  }

  $("q-back").addEventListener("click", function () {
    if (!wizard || wizard.index === 0) { go("#today"); return; }
    wizard.index -= 1;
    renderItem();
  });
  $("q-skip").addEventListener("click", function () {
    var item = visibleItems()[wizard.index];
    if (item.nullable && item.required !== false) wizard.answers[item.key] = null;
    else delete wizard.answers[item.key];
    advance();
  });
  $("q-save").addEventListener("click", function () {
    if (!wizard) return;
    var answers = {};
    visibleItems().forEach(function (item) {
      if (wizard.answers[item.key] !== undefined) answers[item.key] = wizard.answers[item.key];
    });
    var code = wizard.code;
    wizard = null;
    $("q-save").disabled = true;
    save("assessment", { instrument: code, answers: answers }, { label: instrumentName(code) }).then(function () { go("#today"); });
  });

  /* ------------------------------------------------------------------ crisis resources */

  function showCrisis() {
    var box = $("crisis");
    box.hidden = false;
    box.scrollIntoView({ block: "start" });
    $("crisis-title").focus();
  }
  $("crisis-close").addEventListener("click", function () { $("crisis").hidden = true; });

  /* ------------------------------------------------------------------ progress chart */

  var figure = JSON.parse($("progress-figure").textContent);
  var plotlyPromise = null;
  function loadPlotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!plotlyPromise) {
      plotlyPromise = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = document.querySelector("script[data-plotly]").dataset.plotly;
        script.onload = function () { resolve(window.Plotly); };
        script.onerror = function () { plotlyPromise = null; reject(new Error("plotly")); };
        document.head.appendChild(script);
      });
    }
    return plotlyPromise;
  }
  function drawProgress() {
    var chart = $("progress-chart");
    var empty = !figure || !figure.data || !figure.data.length;
    chart.hidden = empty;
    $("progress-note").textContent = empty ? t("chart_empty") : t("chart_offline");
    if (empty || screens.progress.hidden) return;
    loadPlotly().then(function (Plotly) {
      Plotly.react(chart, figure.data, figure.layout, { displayModeBar: false, responsive: true, locale: lang === "zh-hans" ? "zh-CN" : "en" });
    }).catch(function () {});
  }
  function refreshProgress() {
    return getJson(urls.progress).then(function (data) { figure = data; drawProgress(); }).catch(function () {});
  }
  function showProgress() {
    show("progress");
    drawProgress();
    if (navigator.onLine) refreshProgress();
  }

  /* ------------------------------------------------------------------ reminders */

  function pushSupported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }
  function urlBase64ToUint8Array(value) {
    var padding = "=".repeat((4 - (value.length % 4)) % 4);
    var raw = atob((value + padding).replace(/-/g, "+").replace(/_/g, "/"));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  function pushStatus(key) { $("push-status").textContent = t(key); }

  function showSettings() {
    show("settings");
    var button = $("push-on");
    if (!pushSupported()) {
      button.disabled = true;
      pushStatus("push_unsupported");
    } else if (Notification.permission === "denied") {
      pushStatus("push_denied");
    } else {
      navigator.serviceWorker.ready.then(function (registration) {
        return registration.pushManager.getSubscription();
      }).then(function (subscription) { if (subscription) pushStatus("push_on"); }).catch(function () {});
    }
    loadEmailChoice();
  }

  $("push-on").addEventListener("click", function () {
    if (!pushSupported()) { pushStatus("push_unsupported"); return; }
    var button = $("push-on");
    button.disabled = true;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { pushStatus("push_denied"); return null; }
      return getJson(urls.vapid_key).then(function (data) {
        var key = data && data.public_key;
        if (!key || data.enabled === false) { pushStatus("push_not_configured"); return null; }
        return navigator.serviceWorker.ready.then(function (registration) {
          return registration.pushManager.getSubscription().then(function (existing) {
            return existing || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: urlBase64ToUint8Array(key) });
          });
        }).then(function (subscription) {
          return sendJson(urls.push_subscriptions, "POST", subscription.toJSON());
        }).then(function (response) {
          pushStatus(response.ok ? "push_on" : "push_failed");
        });
      }, function (error) {
        pushStatus(error && error.status === 404 ? "push_not_configured" : "push_failed");
      });
    }).catch(function () {
      // Push services can be unreachable (e.g. in mainland China) or absent in this browser.
      pushStatus("push_failed");
    }).then(function () { button.disabled = false; });
  });

  /* E-mail reminders are a channel of the patient's questionnaire protocol
   * (GET/PUT /api/v1/patients/{id}/protocol/). Where the server does not let the patient
   * change it (the clinic decides), the box shows the current choice, read-only. */
  var protocol = null;
  function loadEmailChoice() {
    var box = $("email-opt");
    getJson(urls.protocol).then(function (data) {
      protocol = data;
      box.checked = (data.channels || []).indexOf("email") !== -1;
      box.disabled = false;
    }).catch(function () {
      box.disabled = true;
    });
  }
  $("email-opt").addEventListener("change", function () {
    var box = $("email-opt");
    if (!protocol) return;
    var channels = (protocol.channels || []).filter(function (c) { return c !== "email"; });
    if (box.checked) channels.push("email");
    sendJson(urls.protocol, "PUT", { channels: channels, is_active: protocol.is_active !== false }).then(function (response) {
      if (response.ok) {
        protocol.channels = channels;
        $("email-status").textContent = t(box.checked ? "email_on" : "email_off");
        return;
      }
      box.checked = !box.checked;
      if (response.status === 403 || response.status === 404) {
        box.disabled = true;
        $("email-status").textContent = t("email_unavailable");
      } else {
        $("email-status").textContent = t("email_failed");
      }
    }, function () {
      box.checked = !box.checked;
      $("email-status").textContent = t("email_failed");
    });
  });

  /* ------------------------------------------------------------------ online / offline, service worker */

  function renderNetwork(justCameBack) {
    var banner = $("net-status");
    if (!navigator.onLine) { banner.textContent = t("offline"); banner.hidden = false; banner.className = "net-status offline"; }
    else if (justCameBack) {
      banner.textContent = t("online"); banner.hidden = false; banner.className = "net-status online";
      setTimeout(function () { if (navigator.onLine) banner.hidden = true; }, 3000);
    } else banner.hidden = true;
  }
  window.addEventListener("offline", function () { renderNetwork(false); });
  window.addEventListener("online", function () {
    renderNetwork(true);
    syncNow("online");
    loadPlan(true).then(renderExercises);
    loadDue();
  });
  $("sync-now").addEventListener("click", function () { syncNow("button"); });

  var logout = document.querySelector("form[action$='/logout/']");
  if (logout) {
    logout.addEventListener("submit", function () {
      if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ type: "sign-out" });
    });
  }

  function registerServiceWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(urls.sw, { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      // Cache the asset URLs this page really uses (hashed names in production).
      var assets = [];
      Array.prototype.forEach.call(document.querySelectorAll("link[rel=stylesheet], link[rel=icon], link[rel=apple-touch-icon], script[src]"), function (node) {
        assets.push(new URL(node.href || node.src, location.href).pathname);
      });
      assets.push(new URL(document.querySelector("script[data-plotly]").dataset.plotly, location.href).pathname);
      if (registration.active) registration.active.postMessage({ type: "cache-urls", urls: assets });
    }).catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "queue-changed") {
        renderQueue();
        if (event.data.summary && event.data.summary.sent) { refreshProgress(); loadDue(); }
      }
    });
  }

  /* ------------------------------------------------------------------ start */

  window.addEventListener("hashchange", route);
  Promise.all([
    Q.setMeta("patient", patient),
    Q.setMeta("urls", { sync: urls.sync }),
    Q.setMeta("csrf", csrfToken())
  ]).catch(function () {}).then(function () {
    renderNetwork(false);
    route();
    registerServiceWorker();
    loadInstruments();
    loadDue();
    if (navigator.onLine) syncNow("open"); else renderQueue();
  });
  window.RehabApp = { sync: syncNow, list: function () { return Q.list(patient); } };
})();
