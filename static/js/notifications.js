// The bell on every signed-in page: unread count, the latest notifications, mark read / all
// read, and the member's status. Live: on the inbox it hears the inbox's socket (workbench.js
// re-dispatches each event as "flame:event"); elsewhere it opens its own. With the tab in the
// background, new messages in my conversations and notifications may also show as browser
// notifications and play a short sound (opt-in, settings/notifications/).
import { api } from "./api.js";
import { showNotification } from "./pwa.js";
import { InboxSocket } from "./inbox/socket.js";

const root = document.querySelector("[data-testid=bell]");
const LIST_SIZE = 20;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key === "testid") node.dataset.testid = value;
    else node.setAttribute(key, String(value));
  }
  node.append(...children.filter(Boolean));
  return node;
}

function describe(notification) {
  const values = { who: notification.actor?.name || "", customer: notification.contact_name || gettext("a customer"), count: notification.count };
  const texts = {
    assigned: notification.actor ? gettext("%(who)s assigned you the conversation with %(customer)s")
      : gettext("The conversation with %(customer)s was assigned to you"),
    mention: gettext("%(who)s mentioned you in the conversation with %(customer)s"),
    message: ngettext("%(customer)s wrote a new message", "%(customer)s wrote %(count)s new messages", notification.count),
    waiting: gettext("%(customer)s has been waiting too long"),
  };
  return interpolate(texts[notification.kind] || "", values, true);
}

// A short two-note chime, made on the spot (no audio file to fetch).
let audio = null;
function chime() {
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    for (const [index, frequency] of [880, 1320].entries()) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.12, now + index * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.001, now + index * 0.12 + 0.18);
      tone.connect(gain).connect(audio.destination);
      tone.start(now + index * 0.12);
      tone.stop(now + index * 0.12 + 0.2);
    }
  } catch {
    // no sound here: never worth an error
  }
}

class Bell {
  constructor(node, boot) {
    this.node = node;
    this.boot = boot;
    this.button = node.querySelector("[data-action=toggle-bell]");
    this.panel = node.querySelector("[data-testid=bell-panel]");
    this.countNode = node.querySelector("[data-testid=bell-count]");
    this.listNode = node.querySelector("[data-testid=bell-list]");
    this.emptyNode = node.querySelector("[data-testid=bell-empty]");
    this.unread = boot.unread;
    this.button.addEventListener("click", () => this.toggle(this.panel.hidden));
    node.querySelector("[data-action=read-all]").addEventListener("click", () => this.readAll());
    node.querySelector("[data-testid=availability]").addEventListener("change", (event) => this.setStatus(event.target));
    this.listNode.addEventListener("click", (event) => this.opened(event));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.panel.hidden) {
        this.toggle(false);
        this.button.focus();
      }
    });
    document.addEventListener("click", (event) => {
      if (!this.panel.hidden && !node.contains(event.target)) this.toggle(false);
    });
    // Browsers start sound only after the person interacted with the page.
    document.addEventListener("pointerdown", () => audio?.resume?.(), { once: true });
  }

  toggle(open) {
    this.panel.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) this.load();
  }

  setCount(count) {
    this.unread = count;
    this.countNode.textContent = count > 99 ? "99+" : String(count);
    this.countNode.hidden = count === 0;
  }

  async load() {
    try {
      const page = await api("/api/notifications", { params: { limit: LIST_SIZE } });
      this.render(page.results);
    } catch (error) {
      console.warn("bell: could not load notifications", error);
    }
  }

  render(notifications) {
    this.listNode.replaceChildren(...notifications.map((notification) => this.item(notification)));
    this.emptyNode.hidden = notifications.length > 0;
  }

  item(notification) {
    return el("li", { class: `bell-item${notification.read_at ? "" : " is-unread"}`, testid: "notification", "data-id": notification.id, "data-kind": notification.kind },
      el("a", { href: notification.url, "data-id": notification.id },
        el("span", { class: "bell-item-title", text: describe(notification) }),
        notification.text ? el("span", { class: "bell-item-text", text: notification.text }) : null));
  }

  async opened(event) {
    const link = event.target.closest("a[data-id]");
    if (!link) return;
    event.preventDefault();
    try {
      await api(`/api/notifications/${link.dataset.id}/read`, { method: "POST" });
    } finally {
      window.location.assign(link.href);
    }
  }

  async readAll() {
    const answer = await api("/api/notifications/read-all", { method: "POST" });
    this.setCount(answer.unread);
    for (const item of this.listNode.querySelectorAll(".is-unread")) item.classList.remove("is-unread");
  }

  async setStatus(select) {
    try {
      const answer = await api("/api/auth/availability", { method: "PUT", body: { availability: select.value } });
      const dot = this.node.querySelector("[data-testid=presence-dot]");
      dot.className = `presence-dot presence-${answer.effective}`;
    } catch (error) {
      console.warn("bell: could not change the status", error);
    }
  }

  // --- live --------------------------------------------------------------------------------------

  apply(event) {
    const data = event.data || {};
    if (event.type === "notification:new") {
      this.setCount(data.unread_count);
      if (!this.panel.hidden) this.load();
      this.alert(describe(data.notification), data.notification.text, data.notification.url, `notification-${data.notification.id}`);
    } else if (event.type === "notification:read") {
      this.setCount(data.unread_count);
      if (!this.panel.hidden) this.load();
    } else if (event.type === "message:new" && data.message?.sender === "user"
      && data.conversation?.assigned_agent_id === this.boot.user_id) {
      const name = data.conversation.contact_name || gettext("A customer");
      this.alert(interpolate(gettext("New message from %(name)s"), { name }, true), data.message.content || "",
        `/inbox/${data.conversation_id}/`, `message-${data.conversation_id}`);
    }
  }

  // Only while the tab is in the background, and only as the member asked.
  alert(title, body, url, tag) {
    if (document.visibilityState === "visible") return;
    if (this.boot.sound) chime();
    if (this.boot.browser && "Notification" in window && Notification.permission === "granted") {
      showNotification({ title, body: body.slice(0, 140), url: new URL(url, window.location.origin).href, tag }).catch(() => {});
    }
  }
}

if (root) {
  const bell = new Bell(root, JSON.parse(document.getElementById("bell-boot").textContent));
  window.__flameBell = bell; // a debugging handle (the browser tests read it)
  document.addEventListener("flame:event", (event) => bell.apply(event.detail));
  if (!document.querySelector("[data-testid=inbox]")) {
    // No inbox here to share a socket with: this page keeps its own (and so the member is here).
    const socket = new InboxSocket({ lastEventId: bell.boot.last_event_id, onEvent: (event) => bell.apply(event) });
    socket.connect();
  }
}
