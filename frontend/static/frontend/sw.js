/* Service worker of the patient app, served at /sw.js (scope "/") by frontend/views/system.py.
 *
 * - Precaches the app shell (the /app/ page, CSS, JS, vendored htmx and plotly, icons,
 *   the manifest and GET /api/v1/instruments/) in a versioned cache; bump VERSION when
 *   any shell file changes so phones pick up the new one and drop the old cache.
 * - /app/ pages: network first, the cached shell when offline.
 * - /static/: cache first (the file names change with their content in production).
 * - Instruments, the patient's due items, plan (API and page) and progress: network first,
 *   last copy offline.
 * - Background Sync ("rehab-sync") sends the IndexedDB queue (pwa/queue.js) when the
 *   phone is back online, even if the app was closed in between.
 * - Shows reminder pushes and opens the app when one is tapped.
 */
"use strict";

var VERSION = "v3";
var SHELL_CACHE = "rehab-shell-" + VERSION;
var DATA_CACHE = "rehab-data-" + VERSION;
var APP_URL = "/app/";
var SHELL_URLS = [
  "/static/frontend/app.css",
  "/static/frontend/pwa/pwa.css",
  "/static/frontend/pwa/queue.js",
  "/static/frontend/pwa/app.js",
  "/static/frontend/vendor/htmx.min.js",
  "/static/frontend/vendor/plotly.min.js",
  "/static/frontend/icons/favicon.svg",
  "/static/frontend/icons/icon-192.png",
  "/static/frontend/icons/icon-512.png",
  "/static/frontend/icons/icon-maskable-512.png",
  "/static/frontend/icons/apple-touch-icon.png",
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

function precache(cache, url) {
  return fetch(new Request(url, { credentials: "same-origin", cache: "reload" })).then(function (response) {
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
        return key.indexOf("rehab-") === 0 && key !== SHELL_CACHE && key !== DATA_CACHE;
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
var DATA_PATH = /^\/api\/v1\/patients\/\d+\/(due|plan)\/$|^\/patients\/\d+\/plan\/$/;

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var path = url.pathname;
  if (request.mode === "navigate" && path === APP_URL) {
    event.respondWith(networkFirst(request, SHELL_CACHE, APP_URL));
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
        .map(function (u) { return cache.match(u).then(function (hit) { return hit || precache(cache, u); }); }));
    }));
  } else if (data.type === "sign-out") {
    event.waitUntil(Promise.all([
      caches.delete(DATA_CACHE),
      caches.open(SHELL_CACHE).then(function (c) { return c.delete(APP_URL); }),
      self.RehabQueue.forgetRecent().catch(function () {})
    ]));
  } else if (data.type === "sync") {
    event.waitUntil(syncQueue().catch(function () {}));
  }
});

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
