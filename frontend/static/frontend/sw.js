/* Service worker of the patient app, served at /sw.js (scope "/") by frontend/views/system.py.
 *
 * - Precaches the app shell (the /app/ page, the manifest and GET /api/v1/instruments/, then
 *   the CSS, JS, icons and plotly the page lists) in a versioned cache; bump VERSION when
 *   any shell file changes so phones pick up the new one and drop the old cache.
 * - /app/ pages: network first, the cached shell when offline.
 * - /static/: cache first (the file names change with their content in production).
 * - Instruments, the patient's due items, plan (API and page) and progress: network first,
 *   last copy offline.
 * - The home programme's pictures and videos (and its pictograms): kept in their own cache,
 *   smallest first, up to MEDIA_BUDGET_BYTES (20 MB) in all; what no longer belongs to the
 *   programme is dropped. The page sends the list ("cache-media") after loading the
 *   programme; anything over the budget is shown only when online.
 * - Background Sync ("rehab-sync") sends the IndexedDB queue (pwa/queue.js) when the
 *   phone is back online, even if the app was closed in between.
 * - Shows reminder pushes and opens the app when one is tapped.
 */
"use strict";

var VERSION = "v4";
var SHELL_CACHE = "rehab-shell-" + VERSION;
var DATA_CACHE = "rehab-data-" + VERSION;
// Not versioned: exercise media stay across app updates (they change only with the programme).
var MEDIA_CACHE = "rehab-media";
var MEDIA_BUDGET_BYTES = 20 * 1024 * 1024;
var MEDIA_PATH = /^\/api\/v1\/exercises\/\d+\/media\/\d+\/$/;
var APP_URL = "/app/";
// Static files are not listed here: the page sends the URLs it really uses (hashed names in
// production) in a "cache-urls" message, and those come from the HTTP cache, not the network
// again. Plotly (the largest file, only the progress screen needs it) is sent from the second
// visit on, or cached when the progress screen first loads it, so a first visit stays light.
var SHELL_URLS = [
  "/manifest.webmanifest",
  "/api/v1/instruments/"
];

importScripts("/static/frontend/pwa/queue.js");

function cacheIfGood(cacheName, request, response) {
  // Never keep a redirect (e.g. to the sign-in page) or an error under the app's URL.
  if (!response || !response.ok || response.redirected || response.type === "opaque") return response;
  var copy = response.clone();
  caches.open(cacheName).then(function (cache) { return cache.put(request, copy); });
  return response;
}

function precache(cache, url, mode) {
  return fetch(new Request(url, { credentials: "same-origin", cache: mode || "reload" })).then(function (response) {
    if (response.ok && !response.redirected) return cache.put(url, response);
  }).catch(function () { /* one missing file must not block installing the rest */ });
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE).then(function (cache) {
      return Promise.all([APP_URL].concat(SHELL_URLS).map(function (url) { return precache(cache, url); }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (key) {
        return key.indexOf("rehab-") === 0 && key !== SHELL_CACHE && key !== DATA_CACHE && key !== MEDIA_CACHE;
      }).map(function (key) { return caches.delete(key); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function networkFirst(request, cacheName, fallbackUrl) {
  return fetch(request).then(function (response) {
    return cacheIfGood(cacheName, fallbackUrl || request, response);
  }).catch(function () {
    return caches.match(fallbackUrl || request, { ignoreSearch: !!fallbackUrl }).then(function (hit) {
      if (hit) return hit;
      return new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
    });
  });
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    return hit || fetch(request).then(function (response) { return cacheIfGood(SHELL_CACHE, request, response); });
  });
}

// The patient's own data, kept for offline reading (deleted at sign-out).
var DATA_PATH = /^\/api\/v1\/patients\/\d+\/(due|plan|exercise-programme)\/$|^\/patients\/\d+\/plan\/$/;

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var path = url.pathname;
  if (request.mode === "navigate" && path === APP_URL) {
    event.respondWith(networkFirst(request, SHELL_CACHE, APP_URL));
  } else if (MEDIA_PATH.test(path)) {
    event.respondWith(caches.match(request, { cacheName: MEDIA_CACHE }).then(function (hit) { return hit || fetch(request); }));
  } else if (path.indexOf("/static/") === 0) {
    event.respondWith(cacheFirst(request));
  } else if (path === "/api/v1/instruments/" || path === "/manifest.webmanifest") {
    event.respondWith(networkFirst(request, SHELL_CACHE));
  } else if (DATA_PATH.test(path) || path === "/app/progress/") {
    event.respondWith(networkFirst(request, DATA_CACHE));
  }
});

function notifyClients(message) {
  return self.clients.matchAll({ type: "window" }).then(function (clients) {
    clients.forEach(function (client) { client.postMessage(message); });
  });
}

function syncQueue() {
  return self.RehabQueue.sync().then(function (summary) {
    return notifyClients({ type: "queue-changed", summary: summary }).then(function () {
      // Still pending: fail the sync event so the browser retries it with back-off.
      if (summary.pending > 0 && !summary.auth) throw new Error("entries still queued");
    });
  });
}

self.addEventListener("sync", function (event) {
  if (event.tag === self.RehabQueue.SYNC_TAG) event.waitUntil(syncQueue());
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "cache-urls" && Array.isArray(data.urls)) {
    // The page lists the asset URLs it really uses (hashed names in production).
    event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) {
      return Promise.all(data.urls.filter(function (u) { return typeof u === "string" && u.indexOf("/") === 0; })
        .map(function (u) { return cache.match(u).then(function (hit) { return hit || precache(cache, u, "default"); }); }));
    }));
  } else if (data.type === "cache-media" && Array.isArray(data.files)) {
    event.waitUntil(cacheMedia(data.files));
  } else if (data.type === "sign-out") {
    event.waitUntil(Promise.all([
      caches.delete(DATA_CACHE),
      caches.delete(MEDIA_CACHE),
      caches.open(SHELL_CACHE).then(function (c) { return c.delete(APP_URL); }),
      self.RehabQueue.forgetRecent().catch(function () {})
    ]));
  } else if (data.type === "sync") {
    event.waitUntil(syncQueue().catch(function () {}));
  }
});

/* Keep the programme's media, smallest first, while the total stays within the budget; drop
 * cached media the programme no longer lists. Sizes are the real bodies' sizes. */
function cacheMedia(files) {
  var wanted = files.filter(function (f) { return f && typeof f.url === "string" && f.url.indexOf("/") === 0; });
  return caches.open(MEDIA_CACHE).then(function (cache) {
    return cache.keys().then(function (requests) {
      var keep = {};
      wanted.forEach(function (f) { keep[new URL(f.url, self.location.origin).href] = true; });
      return Promise.all(requests.filter(function (r) { return !keep[r.url]; }).map(function (r) { return cache.delete(r); }));
    }).then(function () {
      var used = 0;
      return wanted.reduce(function (chain, f) {
        return chain.then(function () {
          return cache.match(f.url).then(function (hit) {
            if (hit) return hit.blob().then(function (b) { used += b.size; });
            if (used + (f.size || 0) > MEDIA_BUDGET_BYTES) return null;
            return fetch(new Request(f.url, { credentials: "same-origin" })).then(function (response) {
              if (!response.ok || response.redirected) return null;
              return response.clone().blob().then(function (b) {
                if (used + b.size > MEDIA_BUDGET_BYTES) return null;
                used += b.size;
                return cache.put(f.url, response);
              });
            }).catch(function () { /* offline: try again the next time the programme loads */ });
          });
        });
      }, Promise.resolve());
    });
  });
}

self.addEventListener("push", function (event) {
  var payload = {};
  try { payload = event.data ? event.data.json() : {}; } catch (e) { payload = { body: event.data ? event.data.text() : "" }; }
  var title = payload.title || "Rehab";
  event.waitUntil(self.registration.showNotification(title, {
    body: payload.body || "",
    icon: "/static/frontend/icons/icon-192.png",
    badge: "/static/frontend/icons/icon-192.png",
    tag: payload.tag || "rehab-reminder",
    data: { url: payload.url || APP_URL }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = (event.notification.data && event.notification.data.url) || APP_URL;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (clients) {
    for (var i = 0; i < clients.length; i += 1) {
      if (new URL(clients[i].url).pathname.indexOf(APP_URL) === 0 && "focus" in clients[i]) return clients[i].focus();
    }
    return self.clients.openWindow(target);
  }));
});
