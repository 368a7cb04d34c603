// The conversation list: server-rendered first page, then kept live and paged from the API.
import { api } from "../api.js";
import { el } from "./dom.js";
import {
  contactName,
  fullTime,
  initial,
  platformLabel,
  priorityLabel,
  shortTime,
  statusLabel,
  unreadLabel,
} from "./format.js";

// ISO strings from Python carry microseconds; keep milliseconds so every engine parses them.
export function timeValue(iso) {
  return Date.parse(String(iso || "").replace(/(\.\d{3})\d+/, "$1")) || 0;
}

export class ConversationList {
  constructor(pane, { boot, onOpen }) {
    this.pane = pane;
    this.boot = boot;
    this.onOpen = onOpen;
    this.listNode = pane.querySelector("[data-testid=conversation-list]");
    this.emptyNode = pane.querySelector("[data-testid=list-empty]");
    this.moreNode = pane.querySelector("[data-testid=list-more]");
    this.cursor = boot.next_cursor || "";
    this.loading = false;
    this.activeId = null;
    this.listNode.addEventListener("click", (event) => this.clicked(event));
    this.moreNode.querySelector("button").addEventListener("click", () => this.loadMore());
    if ("IntersectionObserver" in window) {
      new IntersectionObserver((entries) => {
        if (entries.some((entry) => entry.isIntersecting)) this.loadMore();
      }, { root: pane }).observe(this.moreNode);
    }
  }

  item(id) {
    return this.listNode.querySelector(`[data-testid=conversation-item][data-id="${id}"]`);
  }

  clicked(event) {
    const link = event.target.closest("a.conv-link");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    this.onOpen(link.closest("[data-testid=conversation-item]").dataset.id, { push: true });
  }

  setActive(id) {
    this.activeId = id;
    for (const node of this.listNode.querySelectorAll(".conv-item.is-active")) {
      node.classList.remove("is-active");
      node.querySelector("a").removeAttribute("aria-current");
    }
    const node = id && this.item(id);
    if (node) {
      node.classList.add("is-active");
      node.querySelector("a").setAttribute("aria-current", "true");
    }
  }

  // Whether a conversation belongs in the list the user is looking at.
  matches(conversation) {
    const filters = this.boot.filters;
    const me = this.boot.user.id;
    if (this.boot.view === "mine" && conversation.assigned_agent_id !== me) return false;
    if (this.boot.view === "unassigned" && conversation.assigned_agent_id) return false;
    if (!this.boot.user.is_admin && conversation.assigned_agent_id && conversation.assigned_agent_id !== me) {
      return false;
    }
    if (filters.status && !filters.status.split(",").includes(conversation.status)) return false;
    if (filters.platform && conversation.platform !== filters.platform) return false;
    if (filters.priority && conversation.priority !== filters.priority) return false;
    if (filters.waiting === "true" && !conversation.waiting) return false;
    if (filters.snoozed && String(Boolean(conversation.snoozed)) !== filters.snoozed) return false;
    if (filters.tag && !(conversation.tags || []).some((tag) => tag.id === filters.tag)) return false;
    return true;
  }

  upsert(conversation) {
    const existing = this.item(conversation.id);
    const keep = this.matches(conversation) || (existing && conversation.id === this.activeId);
    if (!keep) {
      if (existing) existing.remove();
      this.refreshEmpty();
      return;
    }
    // A search list cannot be re-evaluated here (it matches message text): only update rows.
    if (!existing && this.boot.filters.search) return;
    const node = this.render(conversation);
    if (existing) existing.remove();
    if (!this.place(node) && existing) this.listNode.append(node);
    this.refreshEmpty();
  }

  // Insert in "last activity, newest first" order. A row older than everything loaded while
  // more pages remain is left for paging, so it is not shown twice.
  place(node) {
    const at = timeValue(node.dataset.lastMessageAt);
    const id = node.dataset.id;
    for (const other of this.listNode.children) {
      const otherAt = timeValue(other.dataset.lastMessageAt);
      if (at > otherAt || (at === otherAt && id > other.dataset.id)) {
        this.listNode.insertBefore(node, other);
        return true;
      }
    }
    if (this.cursor && this.listNode.children.length) return false;
    this.listNode.append(node);
    return true;
  }

  remove(id) {
    this.item(id)?.remove();
    this.refreshEmpty();
  }

  refreshEmpty() {
    this.emptyNode.hidden = this.listNode.children.length > 0;
  }

  fetchPage(cursor) {
    return api("/api/conversations", {
      params: { ...this.boot.filters, cursor, limit: this.boot.page_size },
    });
  }

  setCursor(page) {
    this.cursor = page.next ? new URL(page.next).searchParams.get("cursor") || "" : "";
    this.moreNode.hidden = !this.cursor;
  }

  // The first page again, as the user may see it now (after their rights changed): rows they
  // may no longer see go, rows they now may see appear.
  async reload() {
    const page = await this.fetchPage("");
    this.listNode.replaceChildren(...page.results.map((conversation) => this.render(conversation)));
    this.setCursor(page);
    this.refreshEmpty();
  }

  async loadMore() {
    if (!this.cursor || this.loading) return;
    this.loading = true;
    try {
      const page = await this.fetchPage(this.cursor);
      for (const conversation of page.results) {
        if (!this.item(conversation.id)) this.listNode.append(this.render(conversation));
      }
      this.setCursor(page);
    } catch (error) {
      console.warn("inbox: could not load more conversations", error);
    } finally {
      this.loading = false;
      this.moreNode.hidden = !this.cursor;
      this.refreshEmpty();
    }
  }

  href(id) {
    return `${this.boot.inbox_url}${id}/${window.location.search}`;
  }

  render(conversation) {
    const name = contactName(conversation);
    const unread = conversation.unread_count || 0;
    const active = conversation.id === this.activeId;
    const meta = el("span", { class: "conv-meta" }, el("span", { class: "channel-label", text: platformLabel(conversation.platform) }));
    if (conversation.priority === "high" || conversation.priority === "urgent") {
      meta.append(el("span", { class: `badge priority-${conversation.priority}`, testid: "conversation-priority", text: priorityLabel(conversation.priority) }));
    }
    if (conversation.waiting) {
      meta.append(el("span", { class: "badge waiting", testid: "conversation-waiting", title: gettext("The customer waits for an agent’s answer"), text: gettext("Waiting") }));
    }
    if (conversation.snoozed) {
      meta.append(el("span", { class: "badge snoozed", testid: "conversation-snoozed", text: gettext("Snoozed") }));
    }
    if (conversation.status !== "active") {
      meta.append(el("span", { class: `badge status-${conversation.status}`, testid: "conversation-status", text: statusLabel(conversation.status) }));
    }
    if (conversation.assigned_agent) {
      meta.append(el("span", { class: "conv-assignee", text: conversation.assigned_agent.name || conversation.assigned_agent.email }));
    }
    for (const tag of conversation.tags || []) {
      meta.append(el("span", { class: "tag-chip tag-chip-small", style: { "--tag-color": tag.color }, text: tag.name }));
    }
    const icon = this.boot.channel_icons[conversation.platform];
    return el(
      "li",
      {
        class: `conv-item${unread ? " is-unread" : ""}${active ? " is-active" : ""}`,
        testid: "conversation-item",
        dataset: { id: conversation.id, lastMessageAt: conversation.last_message_at },
      },
      el(
        "a",
        { class: "conv-link", href: this.href(conversation.id), "aria-current": active ? "true" : null },
        el("span", { class: "avatar", "aria-hidden": "true" }, initial(name),
          icon && el("img", { class: "avatar-channel", src: icon, alt: "", width: 16, height: 16 })),
        el(
          "span",
          { class: "conv-main" },
          el("span", { class: "conv-top" },
            el("span", { class: "conv-name", testid: "conversation-name", text: name }),
            el("time", {
              class: "conv-time",
              testid: "conversation-time",
              datetime: conversation.last_message_at,
              title: fullTime(conversation.last_message_at),
              text: shortTime(conversation.last_message_at),
            })),
          el("span", { class: "conv-bottom" },
            el("span", { class: "conv-preview", testid: "conversation-preview", text: conversation.last_message || "" }),
            el("span", { class: "unread-badge", testid: "unread-badge", "aria-label": unreadLabel(unread), hidden: !unread, text: String(unread) })),
          meta,
        ),
      ),
    );
  }
}
