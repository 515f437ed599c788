/* Thermogram console: drop a file to upload it, drag the midline, draw regions that are
 * mirrored across it with a live ΔT, save them through the API, compare with an earlier
 * visit on the same temperature scale.
 *
 * The page works without this script (plain forms). Its data is the JSON in
 * <script type="application/json" id="thermo-config"> (translated strings, region
 * templates, the patient's thermograms with their latest reading). The live ΔT comes from
 * the API's matrix operation: at most 160 x 120 cells of hundredths of a degree. The saved
 * numbers always come from the server, which measures the full matrix.
 *
 * Coordinates are image pixels with pixel edges on whole numbers (x = 0 is the image's left
 * edge), as the API takes them; a region and its mirror follow the server's rule.
 */
(function () {
  "use strict";

  var source = document.getElementById("thermo-config");
  if (!source) return;
  var C = JSON.parse(source.textContent);
  var S = C.strings;
  var SVGNS = "http://www.w3.org/2000/svg";

  function $(id) { return document.getElementById(id); }
  function t(key, params) {
    var text = S[key] || key;
    Object.keys(params || {}).forEach(function (name) { text = text.split("%(" + name + ")s").join(String(params[name])); });
    return text;
  }
  function find(id) {
    for (var i = 0; i < C.thermograms.length; i++) if (C.thermograms[i].id === id) return C.thermograms[i];
    return null;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    return node;
  }
  function html(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function clamp(value, low, high) { return Math.max(low, Math.min(high, value)); }
  function round2(value) { return Math.round(value * 100) / 100; }
  function signed(value) { return (value > 0 ? "+" : value < 0 ? "\u2212" : "") + Math.abs(value).toFixed(2); }
  function revealScriptParts() {
    Array.prototype.forEach.call(document.querySelectorAll(".js-only"), function (node) { node.hidden = false; });
    Array.prototype.forEach.call(document.querySelectorAll(".no-js, .roi-static"), function (node) { node.hidden = true; });
  }

  /* ---------------------------------------------------------------- geometry */

  // The server's mirror rule (assessments.thermography.mirror_rect).
  function mirrorOf(r, m) { return { x: Math.floor(2 * m - r.x - r.w + 0.5), y: r.y, w: r.w, h: r.h }; }

  function problemOf(r, m, width, height) {
    if (r.w < 1 || r.h < 1) return "problem_size";
    if (r.x < 0 || r.y < 0 || r.x + r.w > width || r.y + r.h > height) return "problem_outside";
    if (r.x < m && m < r.x + r.w) return "problem_midline";
    var mirror = mirrorOf(r, m);
    if (mirror.x < 0 || mirror.x + mirror.w > width) return "problem_mirror";
    return null;
  }

  function upperNormal(name) {
    var lower = String(name).toLowerCase();
    for (var i = 0; i < C.upper_normal.length; i++) {
      var row = C.upper_normal[i];
      if (row[1].some(function (word) { return lower.indexOf(word) !== -1; })) return row[2];
    }
    return null;
  }

  /* ------------------------------------------------------------ live matrix */

  function decodePreview(body) {
    var bytes = atob(body.values);
    var view = new DataView(new ArrayBuffer(bytes.length));
    for (var i = 0; i < bytes.length; i++) view.setUint8(i, bytes.charCodeAt(i));
    var cells = new Float32Array(body.width * body.height);
    for (var k = 0; k < cells.length; k++) cells[k] = view.getInt16(k * 2, true) / 100;
    return { w: body.width, h: body.height, block: body.block, sw: body.source_width, sh: body.source_height, cells: cells };
  }

  // Mean over a rectangle of pixels: each cell weighted by the pixels it shares with it.
  function meanOf(P, r) {
    var b = P.block, sum = 0, weight = 0;
    for (var row = Math.floor(r.y / b); row * b < r.y + r.h && row < P.h; row++) {
      var oy = Math.min(r.y + r.h, Math.min((row + 1) * b, P.sh)) - Math.max(r.y, row * b);
      for (var col = Math.floor(r.x / b); col * b < r.x + r.w && col < P.w; col++) {
        var ox = Math.min(r.x + r.w, Math.min((col + 1) * b, P.sw)) - Math.max(r.x, col * b);
        if (ox > 0 && oy > 0) { sum += P.cells[row * P.w + col] * ox * oy; weight += ox * oy; }
      }
    }
    return weight ? sum / weight : NaN;
  }

  /* ------------------------------------------------------------- upload drop */

  function setupDrop() {
    var form = $("thermogram-upload");
    var zone = $("thermo-drop");
    var input = form && form.querySelector("input[type=file]");
    var status = $("drop-status");
    if (!form || !zone || !input || typeof DataTransfer === "undefined") return;
    zone.classList.add("enhanced");
    status.textContent = t("drop_here");
    function hasFiles(event) {
      return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") !== -1;
    }
    document.addEventListener("dragover", function (event) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      zone.classList.add("dragging");
    });
    document.addEventListener("dragleave", function (event) {
      if (event.relatedTarget === null) zone.classList.remove("dragging");
    });
    document.addEventListener("drop", function (event) {
      if (!hasFiles(event)) return;
      event.preventDefault();  // never let the browser open the patient's file in the tab
      zone.classList.remove("dragging");
      var files = event.dataTransfer.files;
      if (files.length !== 1) { status.textContent = t("one_file"); return; }
      var chosen = new DataTransfer();
      chosen.items.add(files[0]);
      input.files = chosen.files;
      fileChosen(form, input, status, true);
    });
    input.addEventListener("change", function () { fileChosen(form, input, status, false); });
  }

  function fileChosen(form, input, status, dropped) {
    var file = input.files && input.files[0];
    if (!file) return;
    var missing = form.querySelector("input:invalid, select:invalid");
    if (dropped && !missing) {
      status.textContent = t("uploading", { name: file.name });
      form.requestSubmit();
      return;
    }
    status.textContent = t("dropped", { name: file.name, size: Math.max(1, Math.round(file.size / 1024)) });
    if (missing && dropped) missing.focus();
  }

  /* ------------------------------------------------------------------ editor */

  function Editor(thermogram, stage, form) {
    this.t = thermogram;
    this.stage = stage;
    this.form = form;
    this.W = thermogram.width;
    this.H = thermogram.height;
    this.midlineInput = form.querySelector("input[name$='-midline_x']");
    this.sideSelect = form.querySelector("select[name$='-affected_side']");
    this.m = parseFloat(this.midlineInput.value) || this.W / 2;
    this.rois = [];
    this.selected = -1;
    this.preview = null;
    this.drag = null;
    this.rows = $("roi-rows");
    this.status = $("roi-status");
    this.note = $("preview-note");
    this.overlay = makeOverlay(stage, thermogram, true);
    this.layer = svg("g");
    this.overlay.appendChild(this.layer);
    this.midline = this.makeMidline();
    this.bind();
    if (thermogram.reading) this.load(thermogram.reading, thermogram);
    this.loadPreview();
    this.renderTable();
    this.render();
  }

  function makeOverlay(stage, thermogram, editable) {
    var layer = svg("svg", {
      "class": "thermo-overlay" + (editable ? " editable" : ""),
      viewBox: "0 0 " + thermogram.width + " " + thermogram.height,
      preserveAspectRatio: "none",
      "aria-hidden": editable ? "false" : "true",
    });
    layer.style.width = (100 * thermogram.width / thermogram.png_width) + "%";
    layer.style.height = (100 * thermogram.height / thermogram.png_height) + "%";
    var old = stage.querySelector("svg.thermo-overlay");
    if (old) old.remove();
    stage.appendChild(layer);
    return layer;
  }

  // Image pixels per CSS pixel, so labels and handles keep their size on screen.
  function pixelScale(layer, width) {
    var box = layer.getBoundingClientRect();
    return box.width ? width / box.width : 1;
  }

  Editor.prototype.makeMidline = function () {
    var group = svg("g", {
      "class": "midline", tabindex: "0", role: "slider", "data-role": "midline",
      "aria-label": t("midline"), "aria-valuemin": "0", "aria-valuemax": String(this.W),
    });
    group.appendChild(svg("rect", { "class": "midline-hit", "data-role": "midline", y: "0", height: String(this.H) }));
    group.appendChild(svg("line", { "class": "midline-line", "data-role": "midline", y1: "0", y2: String(this.H), "vector-effect": "non-scaling-stroke" }));
    group.appendChild(svg("circle", { "class": "midline-knob", "data-role": "midline" }));
    this.overlay.appendChild(group);
    return group;
  };

  Editor.prototype.bind = function () {
    var self = this;
    var layer = this.overlay;
    layer.addEventListener("pointerdown", function (event) { self.pointerDown(event); });
    layer.addEventListener("pointermove", function (event) { self.pointerMove(event); });
    layer.addEventListener("pointerup", function (event) { self.pointerUp(event); });
    layer.addEventListener("pointercancel", function () { self.drag = null; self.render(); });
    this.midline.addEventListener("keydown", function (event) { self.midlineKey(event); });
    layer.addEventListener("keydown", function (event) { self.roiKey(event); });
    this.midlineInput.addEventListener("input", function () {
      var value = parseFloat(self.midlineInput.value);
      if (isFinite(value)) { self.m = clamp(value, 0.5, self.W - 0.5); self.render(); }
    });
    this.sideSelect.addEventListener("change", function () { self.render(); });
    this.form.addEventListener("submit", function (event) { event.preventDefault(); self.save(); });
    Array.prototype.forEach.call(document.querySelectorAll("[data-template]"), function (button) {
      button.addEventListener("click", function () { self.applyTemplate(button.getAttribute("data-template")); });
    });
    if (window.ResizeObserver) new ResizeObserver(function () { self.render(); }).observe(this.stage);
    var help = $("midline-help");
    if (help) help.textContent = t("midline_help");
  };

  Editor.prototype.point = function (event) {
    var box = this.overlay.getBoundingClientRect();
    return {
      x: clamp((event.clientX - box.left) / box.width * this.W, 0, this.W),
      y: clamp((event.clientY - box.top) / box.height * this.H, 0, this.H),
    };
  };

  Editor.prototype.pointerDown = function (event) {
    if (event.button !== undefined && event.button > 0) return;
    var role = event.target.getAttribute("data-role");
    var index = parseInt(event.target.getAttribute("data-i"), 10);
    var at = this.point(event);
    event.preventDefault();
    this.overlay.setPointerCapture(event.pointerId);
    if (role === "midline") {
      this.drag = { mode: "midline" };
      this.midline.focus();
    } else if (role === "handle" || role === "roi" || role === "mirror") {
      this.selected = index;
      this.drag = { mode: role === "handle" ? "resize" : role, i: index, from: at, orig: Object.assign({}, this.rois[index]) };
    } else {
      this.selected = -1;
      this.drag = { mode: "draw", from: at, left: at.x < this.m };
    }
    this.render();
  };

  Editor.prototype.pointerMove = function (event) {
    var drag = this.drag;
    if (!drag) return;
    var at = this.point(event);
    if (drag.mode === "midline") {
      this.setMidline(Math.round(at.x * 2) / 2);
      return;
    }
    if (drag.mode === "draw") {
      drag.rect = this.drawnRect(drag.from, at, drag.left);
    } else if (drag.mode === "resize") {
      var o = drag.orig;
      this.rois[drag.i].w = clamp(Math.round(at.x) - o.x, 1, this.W - o.x);
      this.rois[drag.i].h = clamp(Math.round(at.y) - o.y, 1, this.H - o.y);
    } else {
      var dx = Math.round(at.x - drag.from.x) * (drag.mode === "mirror" ? -1 : 1);
      var dy = Math.round(at.y - drag.from.y);
      this.rois[drag.i].x = clamp(drag.orig.x + dx, 0, this.W - drag.orig.w);
      this.rois[drag.i].y = clamp(drag.orig.y + dy, 0, this.H - drag.orig.h);
    }
    this.render();
  };

  // A new rectangle stays on the side of the midline where it was started.
  Editor.prototype.drawnRect = function (from, to, left) {
    var x0 = Math.floor(Math.min(from.x, to.x)), x1 = Math.ceil(Math.max(from.x, to.x));
    var y0 = Math.floor(Math.min(from.y, to.y)), y1 = Math.ceil(Math.max(from.y, to.y));
    if (left) x1 = Math.min(x1, Math.floor(this.m)); else x0 = Math.max(x0, Math.ceil(this.m));
    return { x: x0, y: y0, w: Math.max(0, x1 - x0), h: Math.max(0, y1 - y0) };
  };

  Editor.prototype.pointerUp = function () {
    var drag = this.drag;
    this.drag = null;
    if (drag && drag.mode === "draw" && drag.rect && drag.rect.w >= 2 && drag.rect.h >= 2) {
      this.add({ name: t("region_default", { n: this.rois.length + 1 }), x: drag.rect.x, y: drag.rect.y, w: drag.rect.w, h: drag.rect.h }, true);
      return;
    }
    this.render();
  };

  Editor.prototype.setMidline = function (value) {
    this.m = clamp(value, 0.5, this.W - 0.5);
    this.midlineInput.value = String(this.m);
    this.render();
  };

  Editor.prototype.midlineKey = function (event) {
    var step = event.shiftKey ? 10 : 0.5;
    if (event.key === "ArrowLeft" || event.key === "ArrowDown") this.setMidline(this.m - step);
    else if (event.key === "ArrowRight" || event.key === "ArrowUp") this.setMidline(this.m + step);
    else if (event.key === "Home") this.setMidline(this.W / 2);
    else return;
    event.preventDefault();
    event.stopPropagation();
  };

  // A focused region moves with the arrow keys (Shift: 10 pixels); Delete removes it.
  Editor.prototype.roiKey = function (event) {
    var index = parseInt(event.target.getAttribute && event.target.getAttribute("data-i"), 10);
    if (!(index >= 0) || !this.rois[index]) return;
    var r = this.rois[index], step = event.shiftKey ? 10 : 1;
    var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[event.key]) {
      r.x = clamp(r.x + moves[event.key][0], 0, this.W - r.w);
      r.y = clamp(r.y + moves[event.key][1], 0, this.H - r.h);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      this.remove(index);
      return;
    } else {
      return;
    }
    event.preventDefault();
    this.selected = index;
    this.render();
    var focus = this.layer.querySelector("[data-role=roi][data-i='" + index + "']");
    if (focus) focus.focus();
  };

  /* ------------------------------------------------------------- regions */

  Editor.prototype.add = function (roi, focusName) {
    if (this.rois.length >= C.max_rois) { this.say(t("too_many", { n: C.max_rois }), "error"); return; }
    this.rois.push(roi);
    this.selected = this.rois.length - 1;
    this.renderTable();
    this.render();
    if (focusName) {
      var input = this.rows.querySelector("tr[data-i='" + this.selected + "'] input[data-field=name]");
      if (input) { input.focus(); input.select(); }
    }
  };

  Editor.prototype.remove = function (index) {
    this.rois.splice(index, 1);
    this.selected = -1;
    this.renderTable();
    this.render();
  };

  Editor.prototype.applyTemplate = function (key) {
    var template = C.templates.filter(function (tpl) { return tpl.key === key; })[0];
    if (!template) return;
    var self = this, shift = this.m - this.W / 2;
    var names = this.rois.map(function (r) { return r.name; });
    template.regions.forEach(function (region) {
      if (names.indexOf(region.name) !== -1) return;
      var w = Math.max(1, Math.round(region.w * self.W)), h = Math.max(1, Math.round(region.h * self.H));
      var x = clamp(Math.round(region.x * self.W + shift), 0, Math.max(0, Math.floor(self.m) - w));
      var y = clamp(Math.round(region.y * self.H), 0, self.H - h);
      self.rois.push({ name: region.name, label: region.label, x: x, y: y, w: w, h: h });
    });
    this.selected = -1;
    this.renderTable();
    this.render();
  };

  // Regions and midline of a reading on another thermogram, scaled to this one.
  Editor.prototype.load = function (reading, from) {
    var sx = this.W / from.width, sy = this.H / from.height, self = this;
    this.m = clamp(Math.round(reading.midline_x * sx * 2) / 2, 0.5, this.W - 0.5);
    this.midlineInput.value = String(this.m);
    this.rois = reading.rois.slice(0, C.max_rois).map(function (roi) {
      var r = roi.drawn;
      var w = Math.max(1, Math.round(r.w * sx)), h = Math.max(1, Math.round(r.h * sy));
      return {
        name: roi.region,
        x: clamp(Math.round(r.x * sx), 0, self.W - w),
        y: clamp(Math.round(r.y * sy), 0, self.H - h),
        w: w,
        h: h,
      };
    });
    this.selected = -1;
  };

  Editor.prototype.measure = function (r) {
    var problem = problemOf(r, this.m, this.W, this.H);
    var out = { problem: problem, mirror: mirrorOf(r, this.m) };
    if (problem || !this.preview) return out;
    var onLeft = r.x + r.w <= this.m;
    var imageLeft = onLeft ? r : out.mirror, imageRight = onLeft ? out.mirror : r;
    var leftRect = this.t.image_left_is === "left" ? imageLeft : imageRight;
    var rightRect = leftRect === imageLeft ? imageRight : imageLeft;
    out.left = round2(meanOf(this.preview, leftRect));
    out.right = round2(meanOf(this.preview, rightRect));
    var side = this.sideSelect.value;
    if (side === "left" || side === "right") out.delta = round2(side === "left" ? out.left - out.right : out.right - out.left);
    return out;
  };

  Editor.prototype.loadPreview = function () {
    var self = this;
    this.note.textContent = t("loading_matrix");
    fetch(this.t.matrix_url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (body) {
        self.preview = decodePreview(body);
        self.note.textContent = body.block === 1 ? t("preview_exact")
          : t("preview_note", { w: body.width, h: body.height, block: body.block });
        self.stage.setAttribute("data-preview", "ready");
        self.render();
      })
      .catch(function () { self.note.textContent = t("matrix_failed"); });
  };

  /* -------------------------------------------------------------- drawing */

  Editor.prototype.render = function () {
    var k = pixelScale(this.overlay, this.W);
    var layer = this.layer;
    while (layer.firstChild) layer.removeChild(layer.firstChild);
    for (var i = 0; i < this.rois.length; i++) this.drawRoi(i, k);
    if (this.drag && this.drag.mode === "draw" && this.drag.rect) {
      var r = this.drag.rect, m = mirrorOf(r, this.m);
      layer.appendChild(svg("rect", { "class": "roi drawing", x: r.x, y: r.y, width: r.w, height: r.h, "vector-effect": "non-scaling-stroke" }));
      layer.appendChild(svg("rect", { "class": "mirror drawing", x: m.x, y: m.y, width: m.w, height: m.h, "vector-effect": "non-scaling-stroke" }));
    }
    this.drawMidline(k);
    this.updateRows();
  };

  Editor.prototype.drawRoi = function (i, k) {
    var r = this.rois[i], live = this.measure(r), m = live.mirror;
    var state = (live.problem ? " invalid" : "") + (i === this.selected ? " selected" : "");
    var name = r.name || String(i + 1);
    var box = svg("rect", {
      "class": "roi" + state, x: r.x, y: r.y, width: r.w, height: r.h, "data-role": "roi", "data-i": i,
      tabindex: "0", role: "img", "aria-label": name, "vector-effect": "non-scaling-stroke",
    });
    this.layer.appendChild(box);
    this.layer.appendChild(svg("rect", {
      "class": "mirror" + state, x: m.x, y: m.y, width: m.w, height: m.h, "data-role": "mirror", "data-i": i,
      "vector-effect": "non-scaling-stroke",
    }));
    var size = 12 * k;
    this.layer.appendChild(svg("rect", {
      "class": "handle", "data-role": "handle", "data-i": i, width: size, height: size,
      x: r.x + r.w - size / 2, y: r.y + r.h - size / 2,
    }));
    this.layer.appendChild(roiLabel(r, k, (i + 1) + (live.delta !== undefined ? " " + signed(live.delta) : "")));
    this.layer.appendChild(roiLabel(m, k, (i + 1) + "\u2032"));
  };

  // A region's number (and live ΔT) just above it; the table beside names it.
  function roiLabel(r, k, text) {
    var label = svg("text", { "class": "roi-label", x: r.x, y: Math.max(r.y - 4 * k, 11 * k), "font-size": 12 * k });
    label.textContent = text;
    return label;
  }

  Editor.prototype.drawMidline = function (k) {
    var g = this.midline;
    g.querySelector(".midline-hit").setAttribute("x", this.m - 8 * k);
    g.querySelector(".midline-hit").setAttribute("width", 16 * k);
    var line = g.querySelector(".midline-line");
    line.setAttribute("x1", this.m);
    line.setAttribute("x2", this.m);
    var knob = g.querySelector(".midline-knob");
    knob.setAttribute("cx", this.m);
    knob.setAttribute("cy", 10 * k);
    knob.setAttribute("r", 7 * k);
    g.setAttribute("aria-valuenow", String(this.m));
    g.setAttribute("aria-valuetext", "x = " + this.m + " px");
  };

  /* --------------------------------------------------------------- table */

  Editor.prototype.renderTable = function () {
    var self = this;
    this.rows.textContent = "";
    this.rois.forEach(function (r, i) { self.rows.appendChild(self.row(r, i)); });
  };

  Editor.prototype.row = function (r, i) {
    var self = this;
    var tr = html("tr", { "data-i": i });
    tr.appendChild(html("th", { scope: "row" }, String(i + 1)));
    var nameCell = html("td");
    var name = html("input", { type: "text", maxlength: "64", "data-field": "name", "aria-label": t("region_name", { n: i + 1 }) });
    name.value = r.name;
    name.addEventListener("input", function () { r.name = name.value; self.render(); });
    nameCell.appendChild(name);
    if (r.label) nameCell.appendChild(html("small", { "class": "muted" }, r.label));
    tr.appendChild(nameCell);
    ["x", "y", "w", "h"].forEach(function (key) {
      var td = html("td");
      var input = html("input", {
        type: "number", min: key === "w" || key === "h" ? "1" : "0", step: "1", "data-field": key,
        "aria-label": key + " \u00b7 " + t("region_name", { n: i + 1 }),
      });
      input.addEventListener("input", function () {
        var value = parseInt(input.value, 10);
        if (isFinite(value)) { r[key] = value; self.render(); }
      });
      td.appendChild(input);
      tr.appendChild(td);
    });
    ["left", "right", "delta"].forEach(function (cell) { tr.appendChild(html("td", { "class": "num", "data-cell": cell })); });
    var td = html("td");
    var remove = html("button", { type: "button", "class": "link" }, t("remove"));
    remove.appendChild(html("span", { "class": "visually-hidden" }, " " + (r.name || String(i + 1))));
    remove.addEventListener("click", function () { self.remove(i); });
    td.appendChild(remove);
    tr.appendChild(td);
    return tr;
  };

  Editor.prototype.updateRows = function () {
    var self = this;
    Array.prototype.forEach.call(this.rows.querySelectorAll("tr[data-i]"), function (tr) {
      var i = parseInt(tr.getAttribute("data-i"), 10), r = self.rois[i];
      if (!r) return;
      ["x", "y", "w", "h"].forEach(function (key) {
        var input = tr.querySelector("input[data-field=" + key + "]");
        if (document.activeElement !== input) input.value = String(r[key]);
      });
      var live = self.measure(r);
      tr.classList.toggle("invalid", !!live.problem);
      tr.classList.toggle("selected", i === self.selected);
      tr.querySelector("[data-cell=left]").textContent = live.left !== undefined ? live.left.toFixed(2) : "\u2014";
      tr.querySelector("[data-cell=right]").textContent = live.right !== undefined ? live.right.toFixed(2) : "\u2014";
      self.deltaCell(tr.querySelector("[data-cell=delta]"), r, live);
    });
  };

  Editor.prototype.deltaCell = function (cell, r, live) {
    cell.textContent = "";
    if (live.problem) { cell.appendChild(html("span", { "class": "error" }, t(live.problem))); return; }
    if (live.delta === undefined) { cell.textContent = "\u2014"; return; }
    cell.appendChild(html("strong", { "class": "delta-value" }, signed(live.delta)));
    if (Math.abs(live.delta) >= C.asymmetry_c) {
      cell.appendChild(html("span", { "class": "badge badge-red" }, t("asymmetry", { limit: C.asymmetry_c.toFixed(1) })));
    }
    var limit = upperNormal(r.name);
    if (limit !== null && Math.abs(live.delta) > limit) {
      cell.appendChild(html("span", { "class": "badge badge-amber" }, t("upper_normal", { limit: limit.toFixed(2) })));
    }
  };

  /* ---------------------------------------------------------------- save */

  Editor.prototype.say = function (text, kind, items) {
    this.status.textContent = "";
    this.status.className = "roi-status " + (kind || "");
    this.status.appendChild(html("p", {}, text));
    if (items && items.length) {
      var list = html("ul");
      items.forEach(function (item) { list.appendChild(html("li", {}, item)); });
      this.status.appendChild(list);
    }
  };

  Editor.prototype.save = function () {
    var self = this, button = $("roi-save");
    if (!button) return;  // a read-only view
    if (!this.rois.length) { this.say(t("no_regions"), "error"); return; }
    if (this.rois.some(function (r) { return problemOf(r, self.m, self.W, self.H); })) { this.say(t("fix_first"), "error"); return; }
    if (!this.sideSelect.value) { this.say(t("no_side"), "error"); this.sideSelect.focus(); return; }
    var body = {
      midline_x: this.m,
      affected_side: this.sideSelect.value,
      rois: this.rois.map(function (r, i) {
        return { region: (r.name || "").trim() || t("region_default", { n: i + 1 }), x: r.x, y: r.y, w: r.w, h: r.h };
      }),
    };
    button.disabled = true;
    this.say(t("saving"), "busy");
    fetch(this.t.rois_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": this.form.querySelector("[name=csrfmiddlewaretoken]").value },
      body: JSON.stringify(body),
    })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) { return { status: response.status, data: data }; });
      })
      .then(function (answer) { self.answered(answer, body); })
      .catch(function () { self.say(t("failed", { status: "offline" }), "error"); })
      .then(function () { button.disabled = false; });
  };

  Editor.prototype.answered = function (answer, body) {
    if ((answer.status === 200 || answer.status === 201) && answer.data) {
      var rois = (answer.data.thermogram && answer.data.thermogram.rois) || [];
      var deltas = rois.map(function (roi) { return roi.region + " " + signed(roi.delta_c) + " \u00b0C"; }).join(", ");
      this.say(t(answer.status === 201 ? "saved" : "saved_again", { deltas: deltas }), "success");
      this.t.reading = { midline_x: body.midline_x, rois: rois };
      this.stage.setAttribute("data-saved", String(answer.data.id));
      refreshChart();
      return;
    }
    if (answer.status >= 400 && answer.status < 500 && answer.data) {
      var items = this.reasons(answer.data, body);
      this.say(t("refused", { reason: items.length === 1 ? items[0] : "" }), "error", items.length > 1 ? items : []);
      return;
    }
    this.say(t("failed", { status: answer.status }), "error");
  };

  // The error body's messages, each region's named ("rois[1]", "rois[1].left_c" → its name).
  Editor.prototype.reasons = function (data, body) {
    var out = [], self = this;
    (function walk(value, path) {
      if (typeof value === "string") {
        var text = self.reason(path, value, body);
        if (out.indexOf(text) === -1) out.push(text);
        return;
      }
      if (Array.isArray(value)) { value.forEach(function (item) { walk(item, path); }); return; }
      if (value && typeof value === "object") Object.keys(value).forEach(function (key) { walk(value[key], path.concat([key])); });
    })(data, []);
    return out;
  };

  Editor.prototype.reason = function (path, message, body) {
    var joined = path.join(".");
    var match = /rois\[(\d+)\](?:\.(left|right)_c)?/.exec(joined);
    if (match && body.rois[+match[1]]) {
      var row = this.rows.querySelector("tr[data-i='" + match[1] + "']");
      if (row) row.classList.add("invalid");
      var name = body.rois[+match[1]].region;
      if (match[2]) return t("refused_region_side", { name: name, side: t(match[2]), reason: message });
      return t("refused_region", { name: name, reason: message });
    }
    var field = path.filter(function (key) { return key !== "detail" && key !== "non_field_errors"; }).join(".");
    return field ? field + ": " + message : message;
  };

  function refreshChart() {
    if (window.htmx && $("card-thermal")) {
      window.htmx.ajax("GET", C.chart_url, { target: "#card-thermal", swap: "outerHTML" });
    }
  }

  /* ------------------------------------------------------------- compare */

  function Compare(editor) {
    this.editor = editor;
    this.stage = $("stage-compare");
    this.select = $("compare-select");
    this.summary = $("compare-summary");
    this.copy = $("copy-regions");
    if (!this.stage) return;
    var self = this;
    this.show(find(C.compare));
    if (this.select) this.select.addEventListener("change", function () { self.show(find(parseInt(self.select.value, 10))); });
    if (this.copy) this.copy.addEventListener("click", function () { self.copyRegions(); });
    if (window.ResizeObserver) new ResizeObserver(function () { self.draw(); }).observe(this.stage);
  }

  Compare.prototype.show = function (thermogram) {
    if (!thermogram) return;
    this.t = thermogram;
    var img = this.stage.querySelector("img");
    img.src = thermogram.image_url;
    img.alt = thermogram.label;
    this.stage.setAttribute("data-thermogram", String(thermogram.id));
    this.overlay = makeOverlay(this.stage, thermogram, false);
    this.draw();
    var reading = thermogram.reading;
    this.summary.textContent = reading
      ? reading.rois.map(function (roi, n) { return (n + 1) + " " + roi.region + " \u0394T " + signed(roi.delta_c) + " \u00b0C"; }).join(" \u00b7 ")
      : t("nothing_to_copy");
    if (this.copy) this.copy.disabled = !reading;
  };

  Compare.prototype.draw = function () {
    var thermogram = this.t, layer = this.overlay;
    if (!thermogram || !layer) return;
    while (layer.firstChild) layer.removeChild(layer.firstChild);
    var reading = thermogram.reading;
    if (!reading) return;
    var k = pixelScale(layer, thermogram.width);
    layer.appendChild(svg("line", { "class": "midline-line", x1: reading.midline_x, x2: reading.midline_x, y1: 0, y2: thermogram.height, "vector-effect": "non-scaling-stroke" }));
    reading.rois.forEach(function (roi, n) {
      [roi.drawn, roi.mirror].forEach(function (r, mirrored) {
        layer.appendChild(svg("rect", { "class": mirrored ? "mirror" : "roi", x: r.x, y: r.y, width: r.w, height: r.h, "vector-effect": "non-scaling-stroke" }));
      });
      layer.appendChild(roiLabel(roi.drawn, k, (n + 1) + " " + signed(roi.delta_c)));
      layer.appendChild(roiLabel(roi.mirror, k, (n + 1) + "\u2032"));
    });
  };

  Compare.prototype.copyRegions = function () {
    var reading = this.t && this.t.reading;
    if (!reading) { this.editor.say(t("nothing_to_copy")); return; }
    if (this.editor.rois.length && !window.confirm(t("replace_confirm"))) return;
    this.editor.load(reading, this.t);
    this.editor.renderTable();
    this.editor.render();
    this.editor.say(t("copied", { date: this.t.date }));
  };

  /* ---------------------------------------------------------------- start */

  revealScriptParts();
  setupDrop();
  var current = find(C.current);
  var stage = $("stage-current");
  var form = $("roi-form");
  if (current && stage && form) {
    var editor = new Editor(current, stage, form);
    new Compare(editor);  // eslint-disable-line no-new
    window.RehabThermogram = editor;  // for the browser tests
  }
})();
