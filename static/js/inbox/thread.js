// The open thread: messages (older pages on scroll up), delivery ticks, failures with retry,
// media, and who is typing.
import { api } from "../api.js";
import { messageNotes, renderAttachments } from "./attachments.js";
import { el, safeUrl } from "./dom.js";
import { clockTime, dayLabel, deliveryLabel, fullTime } from "./format.js";
import { timeValue } from "./list.js";

const PAGE_SIZE = 30;
const NEAR_TOP_PX = 120;
const NEAR_BOTTOM_PX = 160;
const TYPING_TIMEOUT_MS = 8000;
const RANK = { queued: 0, sent: 1, delivered: 2, read: 3 };
const TICKS = { queued: "◷", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!" };

export class Thread {
  constructor(root, { boot }) {
    this.boot = boot;
    this.root = root;
    this.scroller = root.querySelector("[data-testid=thread-messages]");
    this.listNode = root.querySelector("[data-testid=message-list]");
    this.olderNode = root.querySelector("[data-testid=thread-older]");
    this.typingNode = root.querySelector("[data-testid=typing-indicator]");
    this.members = new Map(boot.members.map((member) => [member.id, member.name]));
    this.assistants = new Map(boot.assistants.map((assistant) => [assistant.id, assistant.name]));
    this.conversationId = null;
    this.messages = new Map();
    this.typists = new Map();
    this.cursor = "";
    this.loading = false;
    this.scroller.addEventListener("scroll", () => {
      if (this.scroller.scrollTop < NEAR_TOP_PX) this.loadOlder();
    });
    this.listNode.addEventListener("click", (event) => {
      const button = event.target.closest("[data-action=retry]");
      if (button) this.retry(button.closest("[data-testid=message]").dataset.id, button);
    });
  }

  async open(conversationId) {
    this.conversationId = conversationId;
    this.messages.clear();
    this.listNode.replaceChildren();
    this.clearTyping();
    this.cursor = "";
    this.loading = true;
    this.olderNode.hidden = false;
    try {
      const page = await api(`/api/conversations/${conversationId}/messages`, { params: { limit: PAGE_SIZE } });
      if (conversationId !== this.conversationId) return;
      this.addPage(page);
      this.scrollToBottom();
    } catch (error) {
      if (conversationId === this.conversationId) throw error;
    } finally {
      if (conversationId === this.conversationId) {
        this.loading = false;
        this.olderNode.hidden = true;
      }
    }
    // Short threads do not scroll, so no scroll event would ever ask for the rest.
    if (this.cursor && this.scroller.scrollHeight <= this.scroller.clientHeight) this.loadOlder();
  }

  close() {
    this.conversationId = null;
    this.messages.clear();
    this.listNode.replaceChildren();
    this.clearTyping();
  }

  addPage(page) {
    for (const message of page.results) this.add(message, { quiet: true });
    this.cursor = page.next ? new URL(page.next).searchParams.get("cursor") || "" : "";
    this.refreshDays();
  }

  async loadOlder() {
    if (!this.cursor || this.loading || !this.conversationId) return;
    const conversationId = this.conversationId;
    this.loading = true;
    this.olderNode.hidden = false;
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    try {
      const page = await api(`/api/conversations/${conversationId}/messages`, {
        params: { limit: PAGE_SIZE, cursor: this.cursor },
      });
      if (conversationId !== this.conversationId) return;
      this.addPage(page);
    } catch (error) {
      console.warn("inbox: could not load older messages", error);
    } finally {
      if (conversationId === this.conversationId) {
        this.loading = false;
        this.olderNode.hidden = true;
        this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
      }
    }
  }

  nearBottom() {
    return this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  // Insert or refresh one message (API page, POST answer, or a live event); idempotent.
  add(message, { quiet = false } = {}) {
    if (message.conversation_id && message.conversation_id !== this.conversationId) return;
    const stick = !quiet && (this.nearBottom() || message.author_id === this.boot.user.id);
    const known = this.messages.get(message.id);
    if (known) {
      // A snapshot without an event id (an HTTP answer) never moves the ticks backwards.
      const status = this.newerStatus(known.data.status, message.status) ? message.status : known.data.status;
      known.data = { ...message, status, error_code: status === message.status ? message.error_code : known.data.error_code,
        error_message: status === message.status ? message.error_message : known.data.error_message };
      const node = this.render(known.data);
      known.node.replaceWith(node);
      known.node = node;
      return;
    }
    const entry = { data: message, node: this.render(message), statusEventId: 0 };
    this.messages.set(message.id, entry);
    this.insert(entry.node, message);
    if (!quiet) {
      this.refreshDays();
      if (stick) this.scrollToBottom();
    }
  }

  newerStatus(current, incoming) {
    if (current === incoming) return true;
    if (current === "failed") return false;
    if (incoming === "failed") return current === "queued" || current === "sent";
    return (RANK[incoming] ?? -1) > (RANK[current] ?? -1);
  }

  insert(node, message) {
    const at = timeValue(message.created_at);
    // Messages and the history lines between them (activity.js), in time order.
    const nodes = this.listNode.querySelectorAll("[data-created-at]");
    for (let index = nodes.length - 1; index >= 0; index -= 1) {
      const other = nodes[index];
      const otherAt = timeValue(other.dataset.createdAt);
      if (otherAt < at || (otherAt === at && other.dataset.id < message.id)) {
        other.after(node);
        return;
      }
    }
    this.listNode.prepend(node);
  }

  // A status event from the socket or the catch-up feed; events are ordered by id.
  applyStatus(data, eventId) {
    const known = this.messages.get(data.message_id);
    if (!known || (eventId && eventId <= known.statusEventId)) return;
    known.statusEventId = eventId || known.statusEventId;
    known.data = { ...known.data, status: data.status, error_code: data.error_code || "", error_message: data.error_message || "" };
    const node = this.render(known.data);
    known.node.replaceWith(node);
    known.node = node;
  }

  async retry(messageId, button) {
    button.disabled = true;
    const statusEventId = this.messages.get(messageId)?.statusEventId;
    try {
      const message = await api(`/api/conversations/${this.conversationId}/messages/${messageId}/retry`, { method: "POST" });
      const known = this.messages.get(messageId);
      // The retry's own status events can outrun its HTTP answer (delivery may already be
      // done): once one has arrived, it is newer than the answer.
      if (known && known.statusEventId === statusEventId) {
        known.data = message;
        const node = this.render(message);
        known.node.replaceWith(node);
        known.node = node;
      }
    } catch (error) {
      button.disabled = false;
      button.title = error.readable || error.message;
    }
  }

  refreshDays() {
    for (const node of this.listNode.querySelectorAll(".day-separator")) node.remove();
    let previous = "";
    for (const node of this.listNode.querySelectorAll("[data-created-at]")) {
      const day = new Date(timeValue(node.dataset.createdAt)).toDateString();
      if (day !== previous) {
        node.before(el("li", { class: "day-separator", role: "separator" }, el("span", { text: dayLabel(timeValue(node.dataset.createdAt)) })));
        previous = day;
      }
    }
  }

  authorLabel(message) {
    if (message.sender === "agent") {
      const author = message.author_id === this.boot.user.id ? gettext("You")
        : this.members.get(message.author_id) || gettext("Agent");
      return message.private ? interpolate(gettext("%(name)s · private note"), { name: author }, true) : author;
    }
    if (message.sender === "assistant") {
      const name = this.assistants.get(message.assistant_id);
      return name ? interpolate(gettext("%(name)s (assistant)"), { name }, true) : gettext("Assistant");
    }
    return "";
  }

  render(message) {
    const outbound = message.sender !== "user";
    const bubble = el("div", { class: "msg-bubble" });
    if (outbound) bubble.append(el("div", { class: "msg-author", testid: "message-author", text: this.authorLabel(message) }));
    if (message.is_deleted) {
      bubble.append(el("p", { class: "msg-text msg-deleted", testid: "message-text", text: gettext("This message was deleted.") }));
    } else {
      const media = renderAttachments(message) || this.media(message);
      if (media) bubble.append(media);
      const text = this.text(message);
      if (text) bubble.append(el("p", { class: "msg-text", testid: "message-text", text }));
      bubble.append(...messageNotes(message));
    }
    const foot = el("div", { class: "msg-foot" },
      message.is_edited ? el("span", { class: "msg-edited", text: gettext("edited") }) : null,
      el("time", { datetime: message.created_at, title: fullTime(message.created_at), text: clockTime(message.created_at) }));
    if (outbound && !message.private) {
      foot.append(el("span", {
        class: `ticks ticks-${message.status}`,
        testid: "message-status",
        dataset: { status: message.status },
        title: deliveryLabel(message.status),
        "aria-label": deliveryLabel(message.status),
        text: TICKS[message.status] || "",
      }));
    }
    bubble.append(foot);
    const node = el("li", {
      class: `msg msg-${message.sender}${message.status === "failed" ? " is-failed" : ""}${message.private ? " msg-note" : ""}`,
      testid: "message",
      dataset: { id: message.id, sender: message.sender, status: message.status, createdAt: message.created_at, private: String(Boolean(message.private)) },
    }, bubble);
    if (outbound && message.status === "failed") node.append(this.failure(message));
    return node;
  }

  text(message) {
    if (message.type === "unsupported" && !message.content) return gettext("This message type is not supported yet.");
    if (message.type === "reaction") return interpolate(gettext("Reacted %(emoji)s"), { emoji: message.content }, true);
    return message.content || "";
  }

  failure(message) {
    const reason = message.error_message || message.error_code || gettext("The channel did not accept this message.");
    return el("div", { class: "msg-failure", testid: "message-error", role: "alert" },
      el("span", { text: interpolate(gettext("Not delivered: %(reason)s"), { reason }, true) }),
      el("button", { type: "button", class: "btn btn-small", dataset: { action: "retry" }, testid: "message-retry", text: gettext("Retry") }));
  }

  media(message) {
    const url = safeUrl(message.media_url || "");
    if (message.type === "location") return this.location(message);
    if (!url) return null;
    if (message.type === "image") {
      return el("a", { class: "msg-media", href: url, target: "_blank", rel: "noopener noreferrer" },
        el("img", { src: url, alt: gettext("Image sent in the conversation"), loading: "lazy", testid: "message-image" }));
    }
    if (message.type === "audio") return el("audio", { class: "msg-media", src: url, controls: true, preload: "none" });
    if (message.type === "video") return el("video", { class: "msg-media", src: url, controls: true, preload: "metadata" });
    return el("a", { class: "msg-attachment", href: url, target: "_blank", rel: "noopener noreferrer", testid: "message-attachment", text: gettext("Open attachment") });
  }

  location(message) {
    const { latitude, longitude } = message.metadata || {};
    if (!latitude || !longitude) return null;
    const href = `https://www.openstreetmap.org/?mlat=${encodeURIComponent(latitude)}&mlon=${encodeURIComponent(longitude)}#map=16/${encodeURIComponent(latitude)}/${encodeURIComponent(longitude)}`;
    return el("a", { class: "msg-attachment", href, target: "_blank", rel: "noopener noreferrer", text: gettext("Open the location on a map") });
  }

  // --- typing -------------------------------------------------------------------------------

  typing(kind, data) {
    if (data.conversation_id !== this.conversationId || data.user_id === this.boot.user.id) return;
    const previous = this.typists.get(data.user_id);
    if (previous) window.clearTimeout(previous.timer);
    if (kind === "typing:start") {
      const timer = window.setTimeout(() => this.typing("typing:stop", data), TYPING_TIMEOUT_MS);
      this.typists.set(data.user_id, { name: data.user_name || gettext("Someone"), timer });
    } else {
      this.typists.delete(data.user_id);
    }
    this.showTyping();
  }

  clearTyping() {
    for (const { timer } of this.typists.values()) window.clearTimeout(timer);
    this.typists.clear();
    this.showTyping();
  }

  showTyping() {
    const names = [...this.typists.values()].map((typist) => typist.name);
    this.typingNode.hidden = names.length === 0;
    if (names.length === 1) {
      this.typingNode.textContent = interpolate(gettext("%(name)s is typing…"), { name: names[0] }, true);
    } else if (names.length > 1) {
      this.typingNode.textContent = interpolate(gettext("%(names)s are typing…"), { names: names.join(", ") }, true);
    }
  }
}
