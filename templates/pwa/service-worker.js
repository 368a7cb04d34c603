// FLAME's service worker (served at the site's root by flame/pwa.py, so it covers every page).
//
// It stores the application shell (the offline page, the stylesheet, the icons) and the static
// files the pages load, so the installed app opens and says it is offline when there is no
// network. It never stores pages, API answers or anything from the WebSocket: those carry the
// signed-in user's conversations, and whoever opens the browser next (signed out, or someone
// else) must never be shown them.
const CONFIG = {{ config|safe }};
const CACHE = `flame-static-${CONFIG.version}`;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(CONFIG.shell);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== CACHE) await caches.delete(name);
    }
    if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(page(event));
    return;
  }
  const url = new URL(request.url);
  if (url.origin === self.location.origin && url.pathname.startsWith(CONFIG.static_url)) {
    event.respondWith(staticFile(event));
  }
  // Everything else (the API, /jsi18n/, downloads) goes to the network as if there were no worker.
});

// Pages always come from the server (it decides who is signed in); the stored offline page
// answers only when the server cannot be reached.
async function page(event) {
  try {
    return (await event.preloadResponse) || (await fetch(event.request));
  } catch (error) {
    const offline = await caches.match(CONFIG.offline_url);
    if (offline) return offline;
    throw error;
  }
}

async function staticFile(event) {
  const cache = await caches.open(CACHE);
  if (CONFIG.static_is_immutable) {
    const stored = await cache.match(event.request);
    if (stored) return stored;
  }
  try {
    const response = await fetch(event.request);
    if (response.ok && response.type === "basic") event.waitUntil(cache.put(event.request, response.clone()));
    return response;
  } catch (error) {
    const stored = await cache.match(event.request);
    if (stored) return stored;
    throw error;
  }
}

// --- notifications ---------------------------------------------------------------------------
// Pages of this site hand the worker a notification to show: {type: "notification:show",
// notification: {title, body, url, tag}}, with a port for the answer {shown: true|false}.
// Deciding when to notify is theirs, not the worker's.

function sameOriginUrl(url) {
  try {
    const parsed = new URL(url || CONFIG.start_url, self.location.origin);
    return parsed.origin === self.location.origin ? parsed.href : new URL(CONFIG.start_url, self.location.origin).href;
  } catch {
    return new URL(CONFIG.start_url, self.location.origin).href;
  }
}

// Whether it was shown: not without a title, nor where notifications are not allowed.
async function show({ title, body, url, tag } = {}) {
  if (!title) return false;
  const options = { body: body ? String(body) : "", icon: CONFIG.icon, data: { url: sameOriginUrl(url) } };
  if (tag) options.tag = String(tag);
  try {
    await self.registration.showNotification(String(title), options);
    return true;
  } catch {
    return false;
  }
}

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (event.origin && event.origin !== self.location.origin) return;
  if (message.type !== "notification:show") return;
  event.waitUntil(show(message.notification).then((shown) => event.ports[0]?.postMessage({ shown })));
});

// A tap on a notification brings up the app where it points: an open window at that address if
// there is one, else a new one.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = sameOriginUrl(event.notification.data && event.notification.data.url);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((client) => client.url === target);
    if (open) return open.focus();
    return self.clients.openWindow(target);
  })());
});
