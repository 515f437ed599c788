/* "Today's exercises" in the patient app (#exercises): the home programme with steps and
 * pictures, a hold/rest timer, and "done" per exercise.
 *
 * The programme comes from GET /api/v1/patients/{id}/exercise-programme/ (the service
 * worker keeps the last copy, and this file keeps one in IndexedDB too). Its pictures and
 * videos are handed to the service worker, which keeps them offline within its media
 * budget (sw.js MEDIA_BUDGET_BYTES). A "done" goes through the same offline queue as
 * every other entry (queue.js, kind "exercise_log"), with its own client_uuid, to POST
 * /api/v1/patients/{id}/exercise-logs/, which stores it once however often it is sent.
 */
(function () {
  "use strict";

  var Q = window.RehabQueue;
  var app = null;  // window.RehabApp, set when the screen first shows
  var programme = null;
  var timers = {};

  function meta() { return "programme:" + app.patient; }

  function load(force) {
    if (programme && !force) return Promise.resolve(programme);
    return app.getJson(app.urls.exercise_programme).then(function (data) {
      programme = data;
      Q.setMeta(meta(), data).catch(function () {});
      cacheMedia(data);
      return data;
    }, function () {
      return Q.getMeta(meta()).catch(function () { return null; }).then(function (kept) {
        if (kept) programme = kept;
        return kept;
      });
    });
  }

  /* The pictures and videos of the programme, smallest first, for the service worker. */
  function cacheMedia(data) {
    if (!navigator.serviceWorker || !navigator.serviceWorker.controller) return;
    var files = [];
    (data.items || []).forEach(function (item) {
      if (item.exercise.pictogram_url) files.push({ url: item.exercise.pictogram_url, size: 4000 });
      (item.exercise.media || []).forEach(function (m) { files.push({ url: m.url, size: m.size_bytes }); });
    });
    files.sort(function (a, b) { return a.size - b.size; });
    navigator.serviceWorker.controller.postMessage({ type: "cache-media", files: files });
  }

  function name(item) { return app.label(item.exercise.name); }

  function doneToday(rows) {
    var today = Q.localDate(new Date());
    var done = {};
    rows.forEach(function (row) {
      if (row.kind === "exercise_log" && row.body && row.body.date === today && row.state !== "rejected") done[row.body.item] = true;
    });
    return done;
  }

  function doseText(item) {
    var parts = [];
    if (item.hold_seconds >= 120 && item.reps === 1) parts.push(app.t("ex_minutes", { n: Math.round(item.hold_seconds / 60) }));
    else {
      parts.push(app.t("ex_sets_reps", { sets: item.sets, reps: item.reps }));
      if (item.hold_seconds) parts.push(app.t("ex_hold", { n: item.hold_seconds }));
    }
    if (item.rest_seconds) parts.push(app.t("ex_rest", { n: item.rest_seconds }));
    parts.push(app.t("ex_per_week", { n: item.sessions_per_week }));
    return parts.join(" · ");
  }

  function show() {
    app = window.RehabApp;
    app.show("exercises", "today");
    var list = document.getElementById("ex-list");
    var status = document.getElementById("ex-status");
    status.textContent = app.t("loading");
    Promise.all([load(navigator.onLine), app.list()]).then(function (loaded) {
      var data = loaded[0];
      list.textContent = "";
      if (!data) { status.textContent = app.t("ex_unavailable"); return; }
      if (!data.items || !data.items.length) { status.textContent = app.t("ex_none"); return; }
      var running = data.plan && data.plan.status === "active";
      status.textContent = running ? app.t("ex_intro") : app.t("ex_not_running");
      var done = doneToday(loaded[1]);
      data.items.forEach(function (item) { list.appendChild(card(item, !!done[item.id], running)); });
    });
  }

  function picture(item) {
    var media = (item.exercise.media || []).filter(function (m) { return m.kind === "image"; })[0];
    var src = media ? media.url : item.exercise.pictogram_url;
    if (!src) return null;
    return app.el("img", { className: "ex-picture", src: src, alt: "", loading: "lazy", width: "96", height: "96" });
  }

  function card(item, done, running) {
    var node = app.el("article", { className: "ex-card" + (done ? " done" : ""), "data-item": String(item.id) });
    var head = app.el("div", { className: "ex-head" }, [
      picture(item),
      app.el("div", { className: "ex-title" }, [
        app.el("h2", { text: name(item) }),
        app.el("p", { className: "muted", text: doseText(item) }),
        done ? app.el("p", { className: "ex-done-badge", text: app.t("exercise_done") }) : null
      ])
    ]);
    node.appendChild(head);
    var body = app.el("div", { className: "ex-body" });
    var open = app.el("button", { type: "button", className: done ? "secondary ex-open" : "primary ex-open", "aria-expanded": "false",
      text: done ? app.t("ex_again") : app.t("ex_start"), onclick: function () {
        var expanded = open.getAttribute("aria-expanded") === "true";
        open.setAttribute("aria-expanded", String(!expanded));
        body.hidden = expanded;
        if (!expanded && !body.childNodes.length) fill(body, item, running);
      } });
    body.hidden = true;
    node.appendChild(open);
    node.appendChild(body);
    return node;
  }

  function fill(body, item, running) {
    var steps = app.el("ol", { className: "ex-steps" });
    (item.exercise.steps[app.lang] || item.exercise.steps.en || []).forEach(function (step) { steps.appendChild(app.el("li", { text: step })); });
    body.appendChild(steps);
    (item.exercise.media || []).forEach(function (m) {
      if (m.kind === "image") body.appendChild(app.el("img", { className: "ex-media", src: m.url, alt: m.caption || name(item) }));
      else body.appendChild(app.el("video", { className: "ex-media", src: m.url, controls: true, preload: "none", playsinline: true }));
    });
    if (item.progression_note) body.appendChild(app.el("p", { className: "ex-note", text: item.progression_note }));
    var precautions = app.label(item.exercise.precautions);
    if (precautions) body.appendChild(app.el("p", { className: "ex-precaution", text: precautions }));
    body.appendChild(timer(item));
    body.appendChild(running ? doneForm(item) : app.el("p", { className: "muted", text: app.t("ex_not_running") }));
  }

  /* ------------------------------------------------------------------ hold / rest timer */

  function phases(item) {
    var list = [];
    for (var s = 1; s <= item.sets; s += 1) {
      if (item.hold_seconds) {
        for (var r = 1; r <= item.reps; r += 1) {
          list.push({ kind: "hold", secs: item.hold_seconds, set: s, rep: r });
          if (r < item.reps) list.push({ kind: "relax", secs: 3, set: s, rep: r });
        }
      } else list.push({ kind: "set", secs: null, set: s, rep: item.reps });
      if (s < item.sets && item.rest_seconds) list.push({ kind: "rest", secs: item.rest_seconds, set: s });
    }
    return list;
  }

  function clock(secs) {
    var m = Math.floor(secs / 60), s = secs % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function timer(item) {
    var state = { list: phases(item), index: 0, endsAt: 0, left: 0, running: false, tick: null };
    timers[item.id] = state;
    var phase = app.el("p", { className: "ex-phase", "aria-live": "polite" });
    var time = app.el("p", { className: "ex-clock", role: "timer" });
    var start = app.el("button", { type: "button", className: "primary ex-timer-start" });
    var reset = app.el("button", { type: "button", className: "secondary ex-timer-reset", text: app.t("ex_reset") });

    function current() { return state.list[state.index]; }
    function draw() {
      var p = current();
      if (!p) { phase.textContent = app.t("ex_timer_done"); time.textContent = ""; start.hidden = true; return; }
      start.hidden = false;
      var where = app.t("ex_set_of", { set: p.set, sets: item.sets }) + (p.kind === "hold" || p.kind === "relax" ? " · " + app.t("ex_rep_of", { rep: p.rep, reps: item.reps }) : "");
      phase.textContent = app.t("ex_phase_" + p.kind, { reps: item.reps }) + " — " + where;
      time.textContent = p.secs === null ? "" : clock(state.running ? state.left : p.secs);
      start.textContent = p.secs === null ? app.t("ex_set_done") : (state.running ? app.t("ex_pause") : app.t("ex_go"));
    }
    function next() {
      state.index += 1;
      state.running = false;
      clearInterval(state.tick);
      if (navigator.vibrate) navigator.vibrate(200);
      var p = current();
      if (p && p.secs !== null) begin(p.secs);
      draw();
    }
    function begin(secs) {
      state.running = true;
      state.left = secs;
      state.endsAt = Date.now() + secs * 1000;
      clearInterval(state.tick);
      state.tick = setInterval(function () {
        state.left = Math.max(0, Math.ceil((state.endsAt - Date.now()) / 1000));
        if (state.left <= 0) next(); else draw();
      }, 250);
    }
    start.addEventListener("click", function () {
      var p = current();
      if (!p) return;
      if (p.secs === null) { next(); return; }
      if (state.running) { state.running = false; clearInterval(state.tick); state.paused = state.left; draw(); return; }
      begin(state.paused || p.secs);
      state.paused = 0;
      draw();
    });
    reset.addEventListener("click", function () {
      clearInterval(state.tick);
      state.index = 0; state.running = false; state.paused = 0;
      draw();
    });
    draw();
    return app.el("section", { className: "ex-timer", "aria-label": app.t("ex_timer") }, [phase, time,
      app.el("div", { className: "ex-timer-buttons" }, [start, reset])]);
  }

  /* ------------------------------------------------------------------ done */

  function choiceRow(name, options, onPick) {
    var row = app.el("div", { className: "ex-choices " + name, role: "group" });
    options.forEach(function (option) {
      var button = app.el("button", { type: "button", className: "ex-choice", "aria-pressed": "false", "data-value": String(option.value), text: option.text,
        onclick: function () {
          Array.prototype.forEach.call(row.querySelectorAll("button"), function (b) { b.setAttribute("aria-pressed", String(b === button)); });
          onPick(option.value);
        } });
      row.appendChild(button);
    });
    return row;
  }

  function doneForm(item) {
    var answer = { sets_done: item.sets, pain_after: null, difficulty: "" };
    var sets = app.el("select", { className: "ex-sets", id: "ex-sets-" + item.id });
    for (var n = 0; n <= Math.max(item.sets, 1) + 2 && n <= 20; n += 1) {
      sets.appendChild(app.el("option", { value: String(n), text: String(n), selected: n === item.sets }));
    }
    sets.addEventListener("change", function () { answer.sets_done = parseInt(sets.value, 10); });
    var pains = [];
    for (var p = 0; p <= 10; p += 1) pains.push({ value: p, text: String(p) });
    var save = app.el("button", { type: "button", className: "primary ex-save", text: app.t("ex_save") });
    save.addEventListener("click", function () {
      save.disabled = true;
      var body = { item: item.id, sets_done: answer.sets_done, pain_after: answer.pain_after, difficulty: answer.difficulty,
        date: Q.localDate(new Date()) };
      app.save("exercise_log", body, { url: app.urls.exercise_logs, label: app.t("entry_exercise_log", { name: name(item) }) }).then(function () {
        clearInterval((timers[item.id] || {}).tick);
        show();
      });
    });
    return app.el("section", { className: "ex-done", "aria-label": app.t("ex_done_title") }, [
      app.el("h3", { text: app.t("ex_done_title") }),
      app.el("label", { "for": "ex-sets-" + item.id, text: app.t("ex_sets_done") }), sets,
      app.el("p", { className: "ex-label", text: app.t("ex_pain_after") }),
      choiceRow("ex-pain", pains, function (value) { answer.pain_after = value; }),
      app.el("p", { className: "ex-label", text: app.t("ex_difficulty") }),
      choiceRow("ex-difficulty", [
        { value: "too_easy", text: app.t("ex_too_easy") },
        { value: "right", text: app.t("ex_right") },
        { value: "too_hard", text: app.t("ex_too_hard") }
      ], function (value) { answer.difficulty = value; }),
      save
    ]);
  }

  window.RehabExercises = { show: show, load: load };
})();
