// The installable app: registers the service worker (its address comes from the page, see
// base.html) once the page has loaded, so installing it never competes with the page itself.
const workerUrl = document.querySelector('meta[name="flame-service-worker"]')?.content;

if (workerUrl && "serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register(workerUrl, { scope: "/" }).catch((error) => {
      console.warn("flame: the service worker could not be registered", error);
    });
  });
}

// Shows a notification through the worker (phones show them only from a worker): `url` is the
// page a tap opens. Resolves to whether it was shown; notifications must be allowed first
// (Notification.requestPermission), or it is not.
export async function showNotification({ title, body = "", url = "", tag = "" }) {
  if (!("serviceWorker" in navigator)) return false;
  const registration = await navigator.serviceWorker.ready;
  const answer = new MessageChannel();
  const shown = new Promise((resolve) => {
    answer.port1.onmessage = (event) => resolve(event.data?.shown === true);
  });
  registration.active.postMessage({ type: "notification:show", notification: { title, body, url, tag } }, [answer.port2]);
  return shown;
}
