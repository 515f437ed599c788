/* Offline queue of patient entries in IndexedDB, shared by the page (app.js) and the
 * service worker (sw.js, through importScripts), so either can send it.
 *
 * Every entry is written here first, with the client_uuid that makes the server's
 * answer idempotent, and only then sent:
 *   - assessments go in batches to POST /api/v1/sync/, which answers per entry
 *     created / duplicate / rejected;
 *   - home-exercise logs go one by one to POST /api/v1/patients/{id}/home-exercise/
 *     (201 created, 200 already stored).
 * An entry leaves the queue (state "synced") only when the server answered created or
 * duplicate. A rejected entry stays, with the server's reason, until the patient removes
 * it. A network failure, a 5xx or an expired session leaves entries "queued".
 */
(function (global) {
  "use strict";

  var DB_NAME = "rehab-pwa";
  var DB_VERSION = 1;
  var STORE = "entries";
  var META = "meta";
  var SYNC_TAG = "rehab-sync";
  var BATCH = 50;
  var KEEP_SYNCED_MS = 3 * 24 * 3600 * 1000;

  function promisify(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  var dbPromise = null;
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, DB_VERSION);
        request.onupgradeneeded = function () {
          var db = request.result;
          if (!db.objectStoreNames.contains(STORE)) {
            var store = db.createObjectStore(STORE, { keyPath: "client_uuid" });
            store.createIndex("patient", "patient");
          }
          if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { dbPromise = null; reject(request.error); };
      });
    }
    return dbPromise;
  }

  function tx(storeName, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(storeName, mode);
        var result;
        Promise.resolve(work(t.objectStore(storeName))).then(function (value) { result = value; });
        t.oncomplete = function () { resolve(result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }

  function getMeta(key) {
    return tx(META, "readonly", function (s) { return promisify(s.get(key)); });
  }
  function setMeta(key, value) {
    return tx(META, "readwrite", function (s) { s.put(value, key); });
  }

  /* Forget the copies of the clinic's lists kept for offline reading ("recent:<patient>"),
   * at sign-out; the queue itself stays until it is sent. */
  function forgetRecent() {
    return tx(META, "readwrite", function (s) {
      return promisify(s.getAllKeys()).then(function (keys) {
        (keys || []).forEach(function (key) { if (String(key).indexOf("recent:") === 0) s.delete(key); });
      });
    });
  }

  function listEntries(patient) {
    return tx(STORE, "readonly", function (s) {
      return promisify(s.index("patient").getAll(patient));
    }).then(function (rows) {
      return (rows || []).sort(function (a, b) { return b.created_at - a.created_at; });
    });
  }

  function putEntries(rows) {
    return tx(STORE, "readwrite", function (s) { rows.forEach(function (row) { s.put(row); }); });
  }

  function removeEntry(uuid) {
    return tx(STORE, "readwrite", function (s) { s.delete(uuid); });
  }

  function newUuid() {
    if (global.crypto && typeof global.crypto.randomUUID === "function") return global.crypto.randomUUID();
    // Fallback for older browsers: RFC 4122 version 4 from getRandomValues.
    var b = new Uint8Array(16);
    global.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function pad(n) { return String(Math.floor(Math.abs(n))).padStart(2, "0"); }

  /* ISO 8601 in the phone's local time with its offset, as the API requires. */
  function isoWithOffset(d) {
    var off = -d.getTimezoneOffset();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
      "T" + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) +
      "." + String(d.getMilliseconds()).padStart(3, "0") +
      (off >= 0 ? "+" : "-") + pad(off / 60) + ":" + pad(off % 60);
  }

  function localDate(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function newRow(patient, kind, body, extra) {
    extra = extra || {};
    var now = new Date();
    var row = {
      client_uuid: extra.client_uuid || newUuid(),
      patient: patient,
      kind: kind,
      body: body,
      url: extra.url || null,
      label: extra.label || "",
      // "safety": the PHQ-9 item-9 signal sent the moment it is answered.
      role: extra.role || "",
      state: "queued",
      reason: "",
      errors: null,
      created_at: now.getTime(),
      updated_at: now.getTime()
    };
    body.client_uuid = row.client_uuid;
    if (kind === "assessment") body.recorded_at = isoWithOffset(now);
    if (kind === "assessment" && extra.supersedes) body.supersedes = extra.supersedes;
    if (kind === "home_exercise" && !body.date) body.date = localDate(now);
    return row;
  }

  /* Queue an entry. kind "assessment": body {instrument, answers}; kind "home_exercise":
   * body {component, done, ...} and url. extra: {url, label, role, supersedes}.
   * Returns the stored row. */
  function enqueue(patient, kind, body, extra) {
    var row = newRow(patient, kind, body, extra);
    return putEntries([row]).then(function () { return row; });
  }

  /* A corrected entry takes the place of a refused one in one transaction, so the
   * phone never holds both nor neither. The correction is a new entry (own client_uuid,
   * recorded now): the refused one was never stored by the server. */
  function replace(oldUuid, patient, kind, body, extra) {
    var row = newRow(patient, kind, body, extra);
    return tx(STORE, "readwrite", function (s) {
      s.put(row);
      if (oldUuid && oldUuid !== row.client_uuid) s.delete(oldUuid);
    }).then(function () { return row; });
  }

  function reasonText(errors) {
    if (!errors) return "";
    if (typeof errors === "string") return errors;
    var parts = [];
    Object.keys(errors).forEach(function (key) {
      var value = errors[key];
      var text = Array.isArray(value) ? value.join(" ") : (typeof value === "object" ? reasonText(value) : String(value));
      parts.push(key === "__all__" || key === "non_field_errors" || key === "detail" ? text : key + ": " + text);
    });
    return parts.join("; ");
  }

  function withLock(work) {
    // Page and service worker may both try to sync; the Web Locks API serialises them.
    // Without it a double send is still harmless: the server folds it by client_uuid.
    var locks = global.navigator && global.navigator.locks;
    if (locks && typeof locks.request === "function") return locks.request(SYNC_TAG, work);
    return work();
  }

  function postJson(fetchImpl, url, body, csrf) {
    return fetchImpl(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf || "" },
      body: JSON.stringify(body)
    });
  }

  function httpReason(response, body) {
    if (body && typeof body === "object") {
      return reasonText(body.errors || body.detail || body);
    }
    return "HTTP " + response.status;
  }

  /* Send every queued entry of the current patient. Resolves to a summary
   * {sent, rejected, pending, auth} and never rejects on network errors. */
  function sync(options) {
    options = options || {};
    var fetchImpl = options.fetch || global.fetch.bind(global);
    return withLock(function () {
      return Promise.all([getMeta("patient"), getMeta("csrf"), getMeta("urls")]).then(function (meta) {
        var patient = meta[0], csrf = options.csrf || meta[1], urls = meta[2] || {};
        var summary = { sent: 0, rejected: 0, pending: 0, auth: false, offline: false };
        if (!patient || !urls.sync) return summary;
        return listEntries(patient).then(function (rows) {
          var now = Date.now();
          var stale = rows.filter(function (r) { return r.state === "synced" && now - r.updated_at > KEEP_SYNCED_MS; });
          // Oldest first, so the server stores a day's entries in the order they were made.
          var queued = rows.filter(function (r) { return r.state === "queued"; })
            .sort(function (a, b) { return a.created_at - b.created_at; });
          var assessments = queued.filter(function (r) { return r.kind === "assessment"; });
          var others = queued.filter(function (r) { return r.kind !== "assessment"; });
          summary.pending = queued.length;
          var chain = Promise.all(stale.map(function (r) { return removeEntry(r.client_uuid); }));

          function finish(row, state, reason, errors, safetyAlert) {
            row.state = state;
            row.reason = reason || "";
            row.errors = errors || null;
            // The server raised the item-9 alert although it refused the rest of the entry.
            row.safety_alert = safetyAlert || "";
            row.updated_at = Date.now();
            if (state === "synced") { summary.sent += 1; summary.pending -= 1; }
            if (state === "rejected") { summary.rejected += 1; summary.pending -= 1; }
          }

          function sendBatch(batch) {
            var entries = batch.map(function (r) { return Object.assign({ patient: patient }, r.body); });
            return postJson(fetchImpl, urls.sync, { entries: entries }, csrf).then(function (response) {
              if (response.status === 401 || response.status === 403) { summary.auth = true; return; }
              if (!response.ok) return;  // 5xx, proxy error: try again later
              return response.json().then(function (data) {
                var byUuid = {};
                (data.results || []).forEach(function (result, i) {
                  byUuid[result.client_uuid || (batch[i] && batch[i].client_uuid)] = result;
                });
                batch.forEach(function (row) {
                  var result = byUuid[row.client_uuid];
                  if (!result) return;
                  if (result.status === "created" || result.status === "duplicate") finish(row, "synced");
                  else if (result.status === "rejected") {
                    finish(row, "rejected", result.reason || reasonText(result.errors), result.errors, result.safety_alert);
                  }
                });
                return putEntries(batch);
              });
            });
          }

          function sendOne(row) {
            if (!row.url) { finish(row, "rejected", "no address"); return putEntries([row]); }
            return postJson(fetchImpl, row.url, row.body, csrf).then(function (response) {
              if (response.status === 401 || response.status === 403) { summary.auth = true; return; }
              if (response.status === 200 || response.status === 201) { finish(row, "synced"); return putEntries([row]); }
              if (response.status === 400 || response.status === 409 || response.status === 422) {
                return response.json().catch(function () { return null; }).then(function (body) {
                  finish(row, "rejected", httpReason(response, body), body && typeof body === "object" ? (body.errors || body) : null);
                  return putEntries([row]);
                });
              }
              // 404 (feature not deployed yet), 5xx: keep it for later.
            });
          }

          for (var i = 0; i < assessments.length; i += BATCH) {
            (function (batch) { chain = chain.then(function () { if (!summary.auth) return sendBatch(batch); }); })(assessments.slice(i, i + BATCH));
          }
          others.forEach(function (row) { chain = chain.then(function () { if (!summary.auth) return sendOne(row); }); });
          return chain.catch(function () {
            // A failed fetch (offline, DNS, server down) lands here: the rows stay queued.
            summary.offline = true;
          }).then(function () { return summary; });
        });
      });
    });
  }

  global.RehabQueue = {
    SYNC_TAG: SYNC_TAG,
    openDb: openDb,
    getMeta: getMeta,
    setMeta: setMeta,
    list: listEntries,
    enqueue: enqueue,
    replace: replace,
    remove: removeEntry,
    put: putEntries,
    forgetRecent: forgetRecent,
    sync: sync,
    reasonText: reasonText,
    newUuid: newUuid,
    isoWithOffset: isoWithOffset,
    localDate: localDate
  };
})(self);
