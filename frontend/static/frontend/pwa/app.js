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
  var serverEntries = null;  // the patient's recent entries as the clinic holds them (GET assessments)

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
  /* Licensed wording (ODI) comes from the clinic's content pack: until one is loaded the
   * instrument is not offered here (the care team records it from the paper form). */
  function textAvailable(code) {
    return !instruments || !instruments[code] || instruments[code].text_available !== false;
  }
  function packOf(code) {
    var packs = instruments && instruments[code] && instruments[code].content_pack;
    if (!packs) return null;
    return packs[lang] || packs.en || packs[Object.keys(packs)[0]] || null;
  }
  function hideUnavailable() {
    Array.prototype.forEach.call(document.querySelectorAll("#due-list [data-instrument], #other-list [data-instrument]"), function (link) {
      if (!textAvailable(link.dataset.instrument)) link.parentNode.hidden = true;
    });
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
    updateCrisis();
  }

  function route() {
    var parts = (location.hash.replace(/^#/, "") || "today").split("/");
    switch (parts[0]) {
      case "log": if (parts[1] === "vas") startVas(); else startNrs(); break;
      case "fix": startFix(parts[1]); break;
      case "q": startQuestionnaire(parts[1]); break;
      case "progress": showProgress(); break;
      case "plan": showPlan(); break;
      case "exercises": if (window.RehabExercises) window.RehabExercises.show(); else showToday(); break;
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
      else if (summary.rejected && reason !== "save") toast(rejectedText(summary.rejected));
      if (summary.sent) { refreshProgress(); loadDue(); loadServerEntries(); }
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

  /* Queue an entry (extra.replaces: the refused entry it corrects) and try to send it.
   * extra.quiet: no toast (the item-9 signal, sent while the crisis panel shows). */
  function save(kind, body, extra) {
    extra = extra || {};
    var stored = extra.replaces ? Q.replace(extra.replaces, patient, kind, body, extra) : Q.enqueue(patient, kind, body, extra);
    return stored.then(function (row) {
      if (extra.onQueued) extra.onQueued(row);
      return renderQueue().then(function () {
        requestBackgroundSync();
        if (!navigator.onLine) { if (!extra.quiet) toast(t("saved_queued")); return row; }
        return syncNow("save").then(function () {
          var now = entries.filter(function (e) { return e.client_uuid === row.client_uuid; })[0];
          // Never "will be sent" for an entry the server refused: it waits for the patient.
          var message = now && now.state === "synced" ? "saved_sent" : (now && now.state === "rejected" ? "saved_rejected" : "saved_queued");
          if (!extra.quiet || message === "saved_rejected") toast(t(message));
          return row;
        });
      });
    });
  }

  var STATE_CLASS = { queued: "badge-amber", sending: "badge-amber", synced: "badge-green", rejected: "badge-red" };

  function renderQueue() {
    return Q.list(patient).then(function (rows) {
      entries = rows;
      var shown = mergedEntries();
      var list = $("queue-list");
      list.textContent = "";
      var waiting = rows.filter(function (r) { return r.state === "queued"; }).length;
      var rejected = rows.filter(function (r) { return r.state === "rejected"; }).length;
      var summary = [];
      if (waiting) summary.push(waiting + " × " + t("state_queued"));
      if (rejected) summary.push(rejected + " × " + t("state_rejected"));
      $("queue-summary").textContent = shown.length ? summary.join(" · ") : t("no_entries");
      $("sync-now").hidden = !waiting;
      shown.slice(0, 30).forEach(function (row) {
        var item = el("li", { className: "queue-item", "data-state": row.state, "data-uuid": row.client_uuid, "data-source": row.server ? "server" : "phone" }, [
          el("div", { className: "queue-main" }, [
            el("span", { className: "queue-label", text: entryLabel(row) }),
            el("span", { className: "queue-time muted", text: timeText(row.created_at) })
          ]),
          el("span", { className: "badge " + STATE_CLASS[row.state], text: t("state_" + row.state) })
        ]);
        if (row.state === "rejected") appendCorrection(item, row);
        list.appendChild(item);
      });
      markDoneToday();
    });
  }

  function rejectedText(count) { return count === 1 ? t("sync_rejected_one") : t("sync_rejected", { count: count }); }

  /* A refused entry: why, in the patient's language, and the two ways out, both on purpose.
   * An open "Discard?" question survives the list being redrawn by a sync. */
  var confirming = {};
  function appendCorrection(item, row) {
    item.appendChild(el("p", { className: "queue-reason", text: reasonFor(row) }));
    if (row.safety_alert === "raised") item.appendChild(el("p", { className: "queue-note", text: t("safety_alert_raised") }));
    if (row.reason) {
      item.appendChild(el("details", { className: "queue-detail" }, [
        el("summary", { text: t("reason_detail") }), el("p", { text: row.reason })
      ]));
    }
    var buttons = el("div", { className: "queue-actions" });
    if (fixable(row)) {
      buttons.appendChild(el("a", { className: "primary small fix", href: "#fix/" + row.client_uuid, text: t("fix") }));
    }
    buttons.appendChild(el("button", { type: "button", className: "secondary small discard", text: t("discard"), onclick: function () {
      confirming[row.client_uuid] = true;
      renderQueue();
    } }));
    if (!confirming[row.client_uuid]) { item.appendChild(buttons); return; }
    item.appendChild(el("div", { className: "queue-confirm", role: "alert" }, [
      el("p", { text: t("discard_confirm") }),
      el("div", { className: "queue-actions" }, [
        el("button", { type: "button", className: "danger small discard-yes", text: t("discard_yes"), onclick: function () {
          delete confirming[row.client_uuid];
          Q.remove(row.client_uuid).then(renderQueue);
        } }),
        el("button", { type: "button", className: "secondary small discard-no", text: t("keep"), onclick: function () {
          delete confirming[row.client_uuid];
          renderQueue();
        } })
      ])
    ]));
  }

  /* #fix/<client_uuid>: the refused entry's form, prefilled; Save queues the correction in its place. */
  function startFix(uuid) {
    Promise.all([Q.list(patient), loadInstruments()]).then(function (loaded) {
      var row = loaded[0].filter(function (r) { return r.client_uuid === uuid && r.state === "rejected"; })[0];
      if (!row || !fixable(row)) { go("#today"); return; }
      // Where the server raised the item-9 alert for the refused entry, the correction names
      // it, so that the two count as one safety episode (one alert).
      var episode = row.body.supersedes || (row.safety_alert === "raised" ? row.client_uuid : null);
      var fix = { uuid: uuid, answers: row.body.answers || {}, supersedes: episode, reason: reasonFor(row) };
      var code = row.body.instrument;
      if (code === "nrs") startNrs(fix);
      else if (code === "vas") startVas(fix);
      else startQuestionnaire(code, fix);
    });
  }

  function fixable(row) {
    return row.kind === "assessment" && !!row.body && ["nrs", "vas", "phq9", "gad7", "odi", "dn4"].indexOf(row.body.instrument) !== -1;
  }

  /* The server's field errors ({"recorded_at": [...], "answers": {"item3": "..."}}) as one
   * sentence in the patient's language; the server's own words stay under "Details". */
  function reasonFor(row) {
    var errors = row.errors;
    if (!errors || typeof errors !== "object") return t("reason_unknown");
    if (errors.recorded_at) return t("reason_recorded_at");
    if (errors.patient) return t("reason_patient");
    if (errors.instrument) return t("reason_instrument");
    if (row.kind === "exercise_log") return errors.date ? t("reason_exercise_date") : t("reason_exercise");
    var answers = errors.answers;
    if (answers && typeof answers === "object" && !Array.isArray(answers)) {
      var keys = Object.keys(answers).filter(function (key) { return key !== "__all__" && key !== "non_field_errors"; });
      var code = row.body && row.body.instrument;
      if (keys.length) {
        var item = itemOf(code, keys[0]);
        return t("reason_answer", { item: item ? label(item.label) : keys[0] });
      }
      return t("reason_incomplete");
    }
    if (answers) return t("reason_incomplete");
    return t("reason_unknown");
  }

  /* "My entries": the clinic's list of the patient's recent entries (any device, and what
   * the clinic entered) merged with what this phone still holds: queued, refused, and sent
   * rows the server list does not cover (home exercise, or the list not loaded yet). */
  function mergedEntries() {
    var local = entries.slice();
    if (!serverEntries) return local;
    var seen = {};
    local.forEach(function (row) { seen[row.client_uuid] = true; });
    var fromServer = serverEntries.filter(function (row) { return !seen[row.client_uuid]; });
    return local.concat(fromServer).sort(function (a, b) { return b.created_at - a.created_at; });
  }

  /* An entry's name in the language the app shows now (not the one it was saved in). */
  function entryLabel(row) {
    if (row.kind !== "assessment" || !row.body) return row.label || "";
    var code = row.body.instrument;
    var answers = row.body.answers || {};
    if (code === "nrs" && answers.score !== undefined) return t("entry_nrs", { value: answers.score });
    if (code === "vas" && answers.score_mm !== undefined) return t("entry_vas", { value: answers.score_mm });
    if (isItem9Signal(code, answers)) return t("entry_item9");
    var name = code ? instrumentName(code) : row.label;
    return row.total === null || row.total === undefined ? name : t("entry_total", { name: name, total: row.total });
  }

  function isItem9Signal(code, answers) {
    return code === "phq9" && !!answers && Object.keys(answers).filter(function (key) {
      return answers[key] !== null && answers[key] !== undefined;
    }).join() === "item9";
  }

  var ENTRIES_DAYS = 14;
  function loadServerEntries() {
    if (!urls.assessments) return Promise.resolve(null);
    var since = Q.isoWithOffset(new Date(Date.now() - ENTRIES_DAYS * 24 * 3600 * 1000));
    return getJson(urls.assessments + "?since=" + encodeURIComponent(since)).then(function (data) {
      var list = Array.isArray(data) ? data : (data.results || []);
      // A finished PHQ-9 takes the place of the item-9 signal it completes.
      var completed = {};
      list.forEach(function (entry) {
        if (entry.completes) completed[entry.completes] = true;
        if (entry.supersedes) completed[entry.supersedes] = true;
      });
      serverEntries = list.filter(function (entry) { return !completed[entry.id] && !completed[entry.client_uuid]; }).map(function (entry) {
        return {
          client_uuid: entry.client_uuid,
          kind: "assessment",
          body: { instrument: entry.instrument, answers: entry.answers },
          total: entry.total,
          state: "synced",
          server: true,
          created_at: Date.parse(entry.recorded_at)
        };
      });
      return Q.setMeta("recent:" + patient, serverEntries).catch(function () {});
    }).catch(function () {
      // Offline: the last list this phone saw.
      if (serverEntries) return null;
      return Q.getMeta("recent:" + patient).then(function (rows) { if (rows && !serverEntries) serverEntries = rows; }).catch(function () {});
    }).then(renderQueue);
  }

  function todayEntries() {
    var today = Q.localDate(new Date());
    return mergedEntries().filter(function (row) {
      return Q.localDate(new Date(row.created_at)) === today && row.state !== "rejected" && row.role !== "safety" &&
        !(row.kind === "assessment" && isItem9Signal(row.body.instrument, row.body.answers));
    });
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
      // Completed items stay listed as "Done today": the clinic knows, whichever phone sent it.
      renderDue(rows.filter(function (row) { return !row.status || row.status === "pending" || row.status === "completed"; }));
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
        if (slot) { slot.textContent = meta; slot.dataset.base = meta; }
        return;
      }
      if (!textAvailable(code)) return;
      questionnaires += 1;
      var other = document.querySelector("#other-list [data-instrument='" + code + "']");
      if (other) other.parentNode.hidden = true;
      list.appendChild(el("li", { "data-due": code }, [
        el("a", { className: "task task-due", href: "#q/" + code, "data-instrument": code, "data-completed": row.status === "completed" ? "true" : null }, [
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
    Array.prototype.forEach.call(document.querySelectorAll("#due-list [data-instrument], #other-list [data-instrument]"), function (link) {
      var code = link.dataset.instrument;
      var draft = loadDraft(code);
      var meta = link.querySelector(".task-meta");
      if (!meta && draft) { meta = el("span", { className: "task-meta" }); link.appendChild(meta); }
      if (!meta) return;
      if (meta.dataset.base === undefined) meta.dataset.base = meta.textContent;
      var isDone = !draft && (!!done[code] || link.dataset.completed === "true");
      link.classList.toggle("task-done", isDone);
      link.classList.toggle("task-draft", !!draft);
      if (draft) meta.textContent = t("draft_meta", { count: draftCount(draft), total: draftTotal(code) });
      else if (isDone) meta.textContent = t("done_today");
      else meta.textContent = meta.dataset.base;
      // An unfinished questionnaire is not hidden under "Other questionnaires" (once per page).
      var more = link.closest("details");
      if (draft && more && !more.dataset.openedForDraft) { more.open = true; more.dataset.openedForDraft = "1"; }
    });
    hideUnavailable();
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

  /* The note over a form reopened to correct a refused entry. */
  function showFixing(name, fix) {
    var screen = screens[name];
    var note = screen.querySelector(".fixing-note");
    if (!note) { note = el("p", { className: "fixing-note", role: "note" }); screen.insertBefore(note, screen.firstChild); }
    note.hidden = !fix;
    note.textContent = fix ? t("fixing", { reason: fix.reason }) : "";
  }

  var nrsValue = null;
  var nrsFix = null;
  function startNrs(fix) {
    show("nrs", "today");
    nrsFix = fix || null;
    showFixing("nrs", nrsFix);
    nrsValue = null;
    $("nrs-save").disabled = true;
    Array.prototype.forEach.call(document.querySelectorAll(".nrs-btn"), function (b) { b.setAttribute("aria-pressed", "false"); });
    if (nrsFix) {
      var score = nrsFix.answers.score;
      var button = document.querySelector(".nrs-btn[data-value='" + score + "']");
      if (typeof score === "number" && button) { nrsValue = score; button.setAttribute("aria-pressed", "true"); $("nrs-save").disabled = false; }
      if ($("nrs-recall").querySelector("option[value='" + nrsFix.answers.recall + "']")) $("nrs-recall").value = nrsFix.answers.recall;
    }
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
    save("assessment", { instrument: "nrs", answers: { score: value, recall: $("nrs-recall").value } }, {
      label: t("entry_nrs", { value: value }), replaces: nrsFix && nrsFix.uuid
    }).then(function () { go("#today"); });
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
  var vasFix = null;
  function startVas(fix) {
    show("vas", "today");
    vasFix = fix || null;
    showFixing("vas", vasFix);
    vasValue = null;
    thumb.hidden = true;
    track.removeAttribute("aria-valuenow");
    track.setAttribute("aria-valuetext", track.dataset.unset || track.getAttribute("aria-valuetext"));
    $("vas-hint").textContent = t("vas_hint");
    $("vas-save").disabled = true;
    var mm = vasFix && vasFix.answers.score_mm;
    if (typeof mm === "number" && mm >= 0 && mm <= 100) setVas(mm);
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
    save("assessment", { instrument: "vas", answers: { score_mm: value } }, {
      label: t("entry_vas", { value: value }), replaces: vasFix && vasFix.uuid
    }).then(function () { go("#today"); });
  });

  /* ------------------------------------------------------------------ questionnaires, one item per screen */

  var wizard = null;

  /* The same item objects on every call for one instrument list (positions are found with indexOf). */
  var wizardCache = { source: null, items: {} };
  function wizardItems(code) {
    if (wizardCache.source !== instruments) wizardCache = { source: instruments, items: {} };
    if (!wizardCache.items[code]) wizardCache.items[code] = buildWizardItems(code);
    return wizardCache.items[code];
  }
  function buildWizardItems(code) {
    var instrument = instruments[code];
    var pack = packOf(code);
    return instrument.items.filter(function (item) {
      if (code === "dn4") return item.group === "interview";  // the examination items are the clinician's
      return item.kind === "choice" || item.kind === "boolean";
    }).map(function (item) {
      var section = pack && pack.sections && pack.sections[item.key];
      if (!section) return item;
      // The pack's section title and one statement per answer, in the options' order.
      return Object.assign({}, item, {
        label: section.title,
        statements: true,
        options: item.options.map(function (option, index) {
          return Object.assign({}, option, { label: section.statements[index] || label(option.label) });
        })
      });
    });
  }

  /* The items "n / N" counts: the required ones, or all of them where every item may be
   * skipped (ODI sections). Optional follow-ups (PHQ-9 difficulty) are not counted. */
  function scoredItems(code) {
    var items = wizardItems(code);
    var required = items.filter(function (item) { return item.required !== false; });
    return required.length ? required : items;
  }

  /* ---------------- drafts: an unfinished questionnaire stays on this phone until saved or discarded */

  function draftKey(code) { return "rehab-draft:" + patient + ":" + code; }
  function loadDraft(code) {
    try {
      var draft = JSON.parse(window.localStorage.getItem(draftKey(code)) || "null");
      return draft && draft.answers && (draftCount(draft) > 0 || draft.safety) ? draft : null;
    } catch (e) { return null; }
  }
  function storeDraft(w) {
    if (!w || w.fixing) return;
    try {
      window.localStorage.setItem(draftKey(w.code), JSON.stringify({
        answers: w.answers, skipped: w.skipped, started_at: w.started_at, updated_at: Date.now(),
        safety: w.safety, item9_last: w.item9_last
      }));
    } catch (e) { /* storage full or blocked: the answers stay in memory for this visit */ }
  }
  function clearDraft(code) {
    try { window.localStorage.removeItem(draftKey(code)); } catch (e) { /* nothing kept, nothing to clear */ }
  }
  function draftCount(draft) {
    return Object.keys(draft.answers).filter(function (key) {
      return key !== "difficulty" && draft.answers[key] !== null && draft.answers[key] !== undefined;
    }).length;
  }
  function draftTotal(code) { return instruments && instruments[code] ? scoredItems(code).length : "…"; }
  // Keep the draft if the app is hidden or closed mid-answer (it is also written on every answer).
  window.addEventListener("pagehide", function () { storeDraft(wizard); });

  function newWizard(code, answers) {
    if (code === "phq9") crisisOpen = !!(answers && answers.item9 > 0);
    return {
      code: code, items: wizardItems(code), index: 0, answers: answers || {}, skipped: {},
      started_at: Date.now(), safety: null, item9_last: undefined, fixing: null, supersedes: null
    };
  }

  /* Where to carry on: the first item neither answered nor skipped on purpose, else the review. */
  function firstToAnswer() {
    var items = visibleItems();
    for (var i = 0; i < items.length; i += 1) {
      if (wizard.answers[items[i].key] === undefined && !wizard.skipped[items[i].key]) return i;
    }
    return items.length;
  }

  function resetQuestionScreen() {
    $("q-options").textContent = "";
    $("q-pack-note").hidden = true;
    $("q-options").hidden = false;
    $("q-title").textContent = "";
    $("q-count").textContent = "";
    $("q-bar").value = 0;
    $("q-review").hidden = true;
    $("q-resume").hidden = true;
    $("q-resume").textContent = "";
    $("q-save").hidden = true;
    $("q-skip").hidden = true;
  }

  function startQuestionnaire(code, fix) {
    show("questionnaire", "today");
    wizard = null;
    resetQuestionScreen();
    showFixing("questionnaire", fix);
    loadInstruments().then(function () {
      if (!instruments || !instruments[code]) {
        $("q-title").textContent = t("instruments_missing");
        return;
      }
      var instrument = instruments[code];
      $("q-name").textContent = instrumentName(code);
      if (!textAvailable(code)) {
        $("q-title").textContent = t("text_not_loaded");
        return;
      }
      var pack = packOf(code);
      $("q-instructions").textContent = label(instrument.instructions);
      $("q-pack-note").hidden = !pack || pack.kind === "licensed";
      $("q-pack-note").textContent = pack && pack.kind !== "licensed" ? t(pack.kind === "test" ? "pack_test" : "pack_placeholder") : "";
      if (fix) {
        // Reopened to correct a refused entry: its answers, minus the values no option has.
        var answers = {};
        var items = wizardItems(code);
        Object.keys(fix.answers || {}).forEach(function (key) {
          var item = items.filter(function (i) { return i.key === key; })[0];
          var value = fix.answers[key];
          if (item && (value === null ? item.nullable : item.options.some(function (o) { return o.value === value; }))) answers[key] = value;
        });
        wizard = newWizard(code, answers);
        wizard.fixing = fix.uuid;
        wizard.supersedes = fix.supersedes;
        wizard.item9_last = answers.item9;
        wizard.index = firstToAnswer();
        renderItem();
        return;
      }
      var draft = loadDraft(code);
      if (draft) { offerResume(code, draft); return; }
      wizard = newWizard(code);
      renderItem();
    });
  }

  function offerResume(code, draft) {
    var box = $("q-resume");
    box.textContent = "";
    box.hidden = false;
    $("q-options").hidden = true;
    $("q-instructions").hidden = true;
    $("q-title").textContent = t("draft_title");
    var total = scoredItems(code).length;
    $("q-count").textContent = t("progress_of", { current: draftCount(draft), total: total });
    $("q-bar").value = total ? Math.min(1, draftCount(draft) / total) : 0;
    box.appendChild(el("p", { text: t("draft_started", { time: timeText(draft.started_at), count: draftCount(draft), total: total }) }));
    var buttons = el("div", { className: "options" }, [
      el("button", { type: "button", className: "primary resume", text: t("draft_resume"), onclick: function () {
        box.hidden = true;
        wizard = newWizard(code, draft.answers);
        wizard.skipped = draft.skipped || {};
        wizard.started_at = draft.started_at || Date.now();
        wizard.safety = draft.safety || null;
        wizard.item9_last = draft.item9_last;
        wizard.index = firstToAnswer();
        renderItem();
      } }),
      el("button", { type: "button", className: "secondary restart", text: t("draft_discard"), onclick: function () {
        buttons.hidden = true;
        box.appendChild(el("div", { className: "queue-confirm", role: "alert" }, [
          el("p", { text: t("draft_discard_confirm") }),
          draft.safety ? el("p", { className: "muted", text: t("draft_discard_safety") }) : null,
          el("div", { className: "options" }, [
            el("button", { type: "button", className: "danger discard-yes", text: t("discard_yes"), onclick: function () {
              clearDraft(code);
              markDoneToday();
              box.hidden = true;
              wizard = newWizard(code);
              renderItem();
            } }),
            el("button", { type: "button", className: "secondary discard-no", text: t("keep"), onclick: function () { offerResume(code, draft); } })
          ])
        ]));
      } })
    ]);
    box.appendChild(buttons);
    focusTitle();
  }

  function applicable(item) {
    // PHQ-9 and GAD-7: the difficulty question is asked only if any problem was checked off.
    if ((wizard.code === "phq9" || wizard.code === "gad7") && item.key === "difficulty") {
      return Object.keys(wizard.answers).some(function (key) { return key !== "difficulty" && wizard.answers[key] > 0; });
    }
    return true;
  }
  function visibleItems() { return wizard.items.filter(applicable); }

  /* The server's completeness rule (GET /api/v1/instruments/ "completion": which items may
   * be left out, and how many, for the entry to be scored) applied before Save. Returns null,
   * or {blocked | ask, text, index}. blocked: sections skipped on purpose (optional items,
   * the ODI's) beyond the rule, or a required answer the clinic cannot do without; ask: required
   * questions left unanswered that the clinic would still take (PHQ-9), so the patient is asked
   * to finish and may save as it is. */
  function completeness() {
    var instrument = instruments[wizard.code];
    var items = visibleItems();
    var answers = wizard.answers;
    var rule = instrument.completion;
    var indexOf = function (key) {
      for (var i = 0; i < items.length; i += 1) if (items[i].key === key) return i;
      return 0;
    };
    if (rule && rule.items && rule.items.length) {
      var skipped = rule.items.filter(function (key) {
        var item = items.filter(function (i) { return i.key === key; })[0];
        return item && item.required === false && (answers[key] === undefined || answers[key] === null);
      });
      if (skipped.length > rule.max_skipped) {
        return {
          blocked: true, index: indexOf(skipped[0]),
          text: t("too_many_skipped", { count: skipped.length, max: rule.max_skipped, need: skipped.length - rule.max_skipped })
        };
      }
    }
    var missing = items.filter(function (item) { return item.required !== false && answers[item.key] === undefined; });
    if (!missing.length) return null;
    var skippable = rule && rule.items ? rule.items : [];
    var accepted = missing.every(function (item) { return skippable.indexOf(item.key) !== -1; });
    if (accepted) return { ask: true, index: items.indexOf(missing[0]), text: t("incomplete_ask", { count: missing.length }) };
    return { blocked: true, index: items.indexOf(missing[0]), text: t("missing_required", { n: scoredItems(wizard.code).indexOf(missing[0]) + 1 }) };
  }

  function renderItem() {
    updateCrisis();
    var items = visibleItems();
    var review = wizard.index >= items.length;
    var counted = scoredItems(wizard.code).filter(applicable);
    var options = $("q-options");
    options.textContent = "";
    $("q-review").hidden = !review;
    options.hidden = review;
    $("q-save").hidden = !review;
    $("q-instructions").hidden = review || wizard.index > 0;
    if (review) {
      var answered = counted.filter(function (item) { return wizard.answers[item.key] !== undefined && wizard.answers[item.key] !== null; }).length;
      var check = completeness();
      // Sections left out as "does not apply" are not "all answered": say it is ready instead.
      var allAnswered = answered === counted.length;
      $("q-title").textContent = t(check ? (check.blocked ? "review_blocked" : "review_unanswered") : (allAnswered ? "review_title" : "review_ready"));
      $("q-review-text").textContent = (check ? "" : t("review_text") + " ") + t("answered_count", { count: answered, total: counted.length });
      $("q-problem").hidden = !check;
      $("q-problem").textContent = check ? check.text : "";
      $("q-goto").hidden = !check;
      $("q-count").textContent = t("progress_of", { current: answered, total: counted.length });
      $("q-bar").value = counted.length ? answered / counted.length : 1;
      $("q-skip").hidden = true;
      $("q-save").disabled = !!(check && check.blocked);
      $("q-save").hidden = !!(check && check.blocked);
      $("q-save").textContent = check && check.ask ? t("save_anyway") : t("save");
      focusTitle();
      return;
    }
    var item = items[wizard.index];
    var position = counted.indexOf(item);
    // Optional follow-up items (PHQ-9 / GAD-7 difficulty) are not counted in "3 / 9".
    $("q-count").textContent = position >= 0 ? t("progress_of", { current: position + 1, total: counted.length }) : "";
    $("q-bar").value = position >= 0 ? position / counted.length : 1;
    $("q-title").textContent = label(item.label);
    var current = wizard.answers[item.key];
    item.options.forEach(function (option) {
      var pressed = current === option.value;
      options.appendChild(el("button", {
        type: "button",
        className: item.statements ? "option statement" : "option",
        "aria-pressed": pressed ? "true" : "false",
        "data-value": JSON.stringify(option.value),
        text: label(option.label),
        onclick: function () { choose(item, option.value); }
      }));
    });
    var skip = $("q-skip");
    var rule = instruments[wizard.code].completion;
    var skippable = !!(rule && rule.items && rule.items.indexOf(item.key) !== -1);
    // A section that may be left out is skipped only as "does not apply to me".
    if (item.nullable && (item.required !== false || skippable)) { skip.hidden = false; skip.textContent = t("skip_na"); }
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
    delete wizard.skipped[item.key];
    Array.prototype.forEach.call($("q-options").querySelectorAll(".option"), function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.value === JSON.stringify(value)));
    });
    if (wizard.code === "phq9" && item.key === "item9") {
      var previous = wizard.item9_last;
      wizard.item9_last = value;
      if (value > 0) {
        sendItem9Signal(wizard, value, previous);
        storeDraft(wizard);
        // Safety first: show the crisis resources now, from the page itself (no network),
        // and wait for the patient to move on.
        showCrisis();
        if (!$("q-options").querySelector(".next")) {
          $("q-options").appendChild(el("button", { type: "button", className: "primary next", text: t("next"), onclick: function () { advance(); } }));
        }
        return;
      }
    }
    storeDraft(wizard);
    setTimeout(advance, 180);
  }

  /* A nonzero item 9 is queued as its own PHQ-9 entry ({"item9": n}) the moment it is
   * given, so the care team is told even if the questionnaire is never finished; the
   * finished entry names it in "supersedes" (one episode, one alert). One signal per
   * episode: a changed answer queues another only when it goes from 0 to nonzero. */
  function sendItem9Signal(w, value, previous) {
    if (w.safety && previous !== 0) return;
    var uuid = Q.newUuid();
    w.safety = { uuid: uuid };
    save("assessment", { instrument: "phq9", answers: { item9: value } }, {
      client_uuid: uuid, label: t("entry_item9"), role: "safety", quiet: true
    }).then(function () { if (wizard === w) storeDraft(w); });
  }

  function advance() {
    if (!wizard) return;
    // Correcting a refused entry, or sent back from the review to a missing answer: straight
    // on to the next answer still missing, else the review.
    var next = wizard.fixing || wizard.revisit ? firstToAnswer() : 0;
    wizard.index = next > wizard.index ? next : wizard.index + 1;
    renderItem();
  }

  $("q-back").addEventListener("click", function () {
    if (!wizard || wizard.index === 0) { go("#today"); return; }
    wizard.index = Math.min(wizard.index, visibleItems().length) - 1;
    renderItem();
  });
  $("q-skip").addEventListener("click", function () {
    var item = visibleItems()[wizard.index];
    if (item.nullable && item.required !== false) wizard.answers[item.key] = null;
    else delete wizard.answers[item.key];
    wizard.skipped[item.key] = true;
    storeDraft(wizard);
    advance();
  });
  $("q-goto").addEventListener("click", function () {
    var check = wizard && completeness();
    if (!check) return;
    wizard.index = check.index;
    wizard.revisit = true;
    renderItem();
  });
  $("q-save").addEventListener("click", function () {
    if (!wizard) return;
    var check = completeness();
    if (check && check.blocked) return;
    var answers = {};
    visibleItems().forEach(function (item) {
      if (wizard.answers[item.key] !== undefined) answers[item.key] = wizard.answers[item.key];
    });
    var w = wizard;
    var code = w.code;
    wizard = null;
    $("q-save").disabled = true;
    save("assessment", { instrument: code, answers: answers }, {
      label: instrumentName(code),
      supersedes: (w.safety && w.safety.uuid) || w.supersedes,
      replaces: w.fixing,
      onQueued: function () { if (!w.fixing) clearDraft(code); }
    }).then(function () { go("#today"); });
  });

  /* ------------------------------------------------------------------ crisis resources */

  /* The crisis panel belongs to the PHQ-9 that raised it: it shows on that questionnaire's
   * screens, its review and the Today screen after it, never on top of another
   * questionnaire or screen. Closed by the patient, or replaced when a new PHQ-9 starts. */
  var crisisOpen = false;
  function updateCrisis() {
    var box = $("crisis");
    var where = location.hash || "#today";
    var here = where.indexOf("#q/phq9") === 0 || where === "#today";
    if (box) box.hidden = !(crisisOpen && here);
  }
  function showCrisis() {
    crisisOpen = true;
    updateCrisis();
    var box = $("crisis");
    box.scrollIntoView({ block: "start" });
    $("crisis-title").focus();
  }
  $("crisis-close").addEventListener("click", function () { crisisOpen = false; updateCrisis(); });

  /* ------------------------------------------------------------------ progress chart */

  var figure = JSON.parse($("progress-figure").textContent);
  var plotlyPromise = null;
  function loadPlotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!plotlyPromise) {
      plotlyPromise = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = document.querySelector("script[data-plotly]").dataset.plotly;
        script.onload = function () {
          if (lang !== "zh-hans") { resolve(window.Plotly); return; }
          // Chinese month and day names on the date axis: plotly's zh-CN locale, after plotly itself.
          var locale = document.createElement("script");
          locale.src = document.querySelector("script[data-plotly-locale]").dataset.plotlyLocale;
          locale.onload = locale.onerror = function () { resolve(window.Plotly); };
          document.head.appendChild(locale);
        };
        script.onerror = function () { plotlyPromise = null; reject(new Error("plotly")); };
        document.head.appendChild(script);
      });
    }
    return plotlyPromise;
  }
  var PLOT_CONFIG = {
    displayModeBar: false,
    responsive: true,
    locale: lang === "zh-hans" ? "zh-CN" : "en",
    locales: { "zh-CN": { format: { shortMonths: ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"] } } }
  };
  /* PHQ-9, GAD-7 and ODI over time, each on its severity bands, with the latest band in words. */
  function renderScores(scores) {
    var box = $("progress-scores");
    box.textContent = "";
    (scores || []).forEach(function (score) {
      var card = document.createElement("figure");
      card.className = "score-card";
      var caption = document.createElement("figcaption");
      caption.textContent = score.title;
      var latest = document.createElement("p");
      latest.className = "muted";
      latest.textContent = score.latest;
      var chart = document.createElement("div");
      chart.className = "chart score-chart";
      chart.setAttribute("role", "img");
      chart.setAttribute("aria-label", score.title + ": " + score.latest);
      chart.setAttribute("data-score", score.code);
      card.appendChild(caption);
      card.appendChild(latest);
      card.appendChild(chart);
      box.appendChild(card);
    });
  }
  function drawProgress() {
    var chart = $("progress-chart");
    var empty = !figure || !figure.data || !figure.data.length;
    chart.hidden = empty;
    $("progress-note").textContent = empty ? t("chart_empty") : t("chart_offline");
    $("progress-summary").textContent = (figure && figure.summary) || "";
    var scores = (figure && figure.scores) || [];
    renderScores(scores);
    if (screens.progress.hidden || (empty && !scores.length)) return;
    loadPlotly().then(function (Plotly) {
      if (!empty) Plotly.react(chart, figure.data, figure.layout, PLOT_CONFIG);
      scores.forEach(function (score) {
        var el = document.querySelector('#progress-scores [data-score="' + score.code + '"]');
        if (el) Plotly.react(el, score.figure.data, score.figure.layout, PLOT_CONFIG);
      });
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
  var signedOut = false;
  window.addEventListener("online", function () {
    if (signedOut) return;  // nothing of the patient's is fetched again on this phone
    renderNetwork(true);
    syncNow("online");
    loadPlan(true).then(renderExercises);
    loadDue();
    loadServerEntries();
  });
  $("sync-now").addEventListener("click", function () { syncNow("button"); });

  /* Sign out works without a network: this phone's copy of the patient's data (app page,
   * plan, recent entries) is removed at once; entries still waiting to be sent stay in the
   * queue, keyed by patient, and go out at this patient's next sign-in. The server's sign-out
   * follows as soon as the network is back (or at the next start of the app). */
  var logout = document.querySelector("form[action$='/logout/']");
  function forgetLocal() {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ type: "sign-out" });
    return Promise.all([
      Q.forgetRecent ? Q.forgetRecent().catch(function () {}) : null,
      Q.setMeta("recent:" + patient, null).catch(function () {}),
      window.caches ? caches.keys().then(function (keys) {
        return Promise.all(keys.filter(function (k) { return k.indexOf("rehab-data-") === 0; }).map(function (k) { return caches.delete(k); }));
      }).catch(function () {}) : null
    ]);
  }
  function serverSignOut() {
    var body = new FormData(logout);
    return fetch(logout.action, { method: "POST", body: body, credentials: "same-origin", redirect: "follow" }).then(function (response) {
      if (!response.ok && response.status !== 302) throw new Error("HTTP " + response.status);
      return Q.setMeta("pending-sign-out", null).catch(function () {}).then(function () { location.assign(response.url || "/"); });
    });
  }
  function showSignedOut(waiting) {
    signedOut = true;
    Array.prototype.forEach.call(document.querySelectorAll("main > *, .tabbar, .topbar-right"), function (node) { node.hidden = true; });
    var text = waiting ? t("signed_out_offline_queue", { count: waiting }) : t("signed_out_offline");
    $("main").appendChild(el("section", { className: "signed-out", id: "signed-out" }, [
      el("h1", { tabindex: "-1", text: t("signed_out_title") }),
      el("p", { text: text })
    ]));
    $("main").querySelector("#signed-out h1").focus();
    // The first requests after the network returns can still fail: try again for a while.
    var tries = 0;
    function retry() {
      serverSignOut().catch(function () {
        tries += 1;
        if (tries < 30 && navigator.onLine) setTimeout(retry, 1000);
      });
    }
    window.addEventListener("online", function () { tries = 0; setTimeout(retry, 300); });
  }
  if (logout) {
    logout.addEventListener("submit", function (event) {
      event.preventDefault();
      var waiting = 0;
      Q.list(patient).then(function (rows) {
        waiting = rows.filter(function (r) { return r.state === "queued"; }).length;
      }).catch(function () {}).then(function () {
        return Q.setMeta("pending-sign-out", patient).catch(function () {});
      }).then(forgetLocal).then(function () {
        if (!navigator.onLine) throw new Error("offline");
        return serverSignOut();
      }).catch(function () { showSignedOut(waiting); });
    });
  }

  function registerServiceWorker() {
    if (!("serviceWorker" in navigator)) return;
    var controlledAtStart = !!navigator.serviceWorker.controller;
    navigator.serviceWorker.register(urls.sw, { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      // Cache the asset URLs this page really uses (hashed names in production).
      var assets = [];
      Array.prototype.forEach.call(document.querySelectorAll("link[rel=stylesheet], link[rel=icon], link[rel=apple-touch-icon], script[src]"), function (node) {
        assets.push(new URL(node.href || node.src, location.href).pathname);
      });
      // Plotly for offline charts from the second visit on: the first visit stays light.
      if (controlledAtStart) {
        assets.push(new URL(document.querySelector("script[data-plotly]").dataset.plotly, location.href).pathname);
        if (lang === "zh-hans") assets.push(new URL(document.querySelector("script[data-plotly-locale]").dataset.plotlyLocale, location.href).pathname);
      }
      if (registration.active) registration.active.postMessage({ type: "cache-urls", urls: assets });
    }).catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "queue-changed") {
        renderQueue();
        var summary = event.data.summary || {};
        if (summary.sent) { refreshProgress(); loadDue(); loadServerEntries(); }
        if (summary.rejected) toast(rejectedText(summary.rejected));
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
    // Signed out on this phone while offline: finish the sign-out with the server first.
    return Q.getMeta("pending-sign-out").catch(function () { return null; });
  }).then(function (pending) {
    if (pending && logout) {
      return serverSignOut().catch(function () { showSignedOut(0); });
    }
    renderNetwork(false);
    route();
    registerServiceWorker();
    loadInstruments().then(markDoneToday);
    loadDue();
    loadServerEntries();
    if (navigator.onLine) syncNow("open"); else renderQueue();
  });
  // What exercises.js (the home programme screen) builds on.
  window.RehabApp = {
    sync: syncNow, list: function () { return Q.list(patient); }, save: save, show: show, t: t, el: el, label: label,
    getJson: getJson, urls: urls, patient: patient, lang: lang
  };
})();
