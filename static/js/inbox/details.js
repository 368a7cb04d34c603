// The conversation header and the details panel: status, priority, assignment, tags, the AI
// analysis and the contact. Changes go through the REST API; the answer (and the live event
// that follows) re-render everything.
import { api } from "../api.js";
import { el, field, setText } from "./dom.js";
import { contactName, fullTime, initial, platformLabel, priorityLabel, statusLabel } from "./format.js";

export class Details {
  constructor({ header, pane, boot, onChange }) {
    this.header = header;
    this.pane = pane;
    this.boot = boot;
    this.onChange = onChange;
    this.conversation = null;
    this.errorNode = pane.querySelector("[data-testid=details-error]");
    this.bind();
  }

  bind() {
    const on = (node, type, handler) => node && node.addEventListener(type, handler);
    on(field(this.pane, "status-select"), "change", (event) => this.setStatus(event.target.value));
    on(field(this.pane, "priority-select"), "change", (event) =>
      this.act(`/api/conversations/${this.conversation.id}`, { method: "PATCH", body: { priority: event.target.value } }));
    on(field(this.pane, "agent-select"), "change", (event) =>
      this.act(`/api/conversations/${this.conversation.id}/assign`, { method: "POST", body: { agent_id: event.target.value || null } }));
    on(field(this.pane, "assistant-select"), "change", (event) =>
      this.act(`/api/conversations/${this.conversation.id}/assign`, { method: "POST", body: { assistant_id: event.target.value || null } }));
    on(this.pane.querySelector("[data-action=assign-me]"), "click", () =>
      this.act(`/api/conversations/${this.conversation.id}/assign`, { method: "POST", body: { agent_id: this.boot.user.id } }));
    on(this.header.querySelector("[data-action=resolve]"), "click", () =>
      this.setStatus(this.conversation.status === "resolved" ? "active" : "resolved"));
    on(this.pane.querySelector("[data-testid=tag-form]"), "submit", (event) => {
      event.preventDefault();
      const input = event.target.querySelector("input");
      const name = input.value.trim();
      if (!name) return;
      input.value = "";
      this.setTags((names) => [...names, name]);
    });
    on(field(this.pane, "tags"), "click", (event) => {
      const button = event.target.closest("[data-action=remove-tag]");
      if (button) this.setTags((names) => names.filter((name) => name !== button.dataset.name));
    });
  }

  tagNames() {
    return (this.conversation.tags || []).map((tag) => tag.name);
  }

  setStatus(status) {
    return this.act(`/api/conversations/${this.conversation.id}/status`, { method: "POST", body: { status } });
  }

  // ``change`` maps the current tag names to the new ones when the request's turn comes.
  setTags(change) {
    return this.act(`/api/conversations/${this.conversation.id}`, {
      method: "PATCH",
      body: () => ({ tags: change(this.tagNames()) }),
    });
  }

  // One change at a time, in the order the agent made them: answers that crossed on the wire
  // would otherwise let an older snapshot (say, without the tag just added) win.
  act(path, options) {
    this.queue = (this.queue || Promise.resolve()).then(() => this.perform(path, options));
    return this.queue;
  }

  async perform(path, options) {
    this.showError("");
    try {
      const body = typeof options.body === "function" ? options.body() : options.body;
      this.onChange(await api(path, { ...options, body }));
    } catch (error) {
      this.showError(error.readable || error.message);
      this.show(this.conversation); // put the controls back to what is true
    }
  }

  showError(text) {
    this.errorNode.textContent = text;
    this.errorNode.hidden = !text;
  }

  show(conversation) {
    this.conversation = conversation;
    this.pane.hidden = false;
    this.showHeader(conversation);
    this.showControls(conversation);
    this.showAnalysis(conversation);
    this.showContact(conversation);
  }

  showHeader(conversation) {
    const name = contactName(conversation);
    setText(field(this.header, "avatar"), initial(name));
    setText(field(this.header, "name"), name);
    setText(field(this.header, "channel"), platformLabel(conversation.platform));
    const icon = field(this.header, "channel-icon");
    icon.src = this.boot.channel_icons[conversation.platform] || "";
    icon.hidden = !icon.src;
    const status = field(this.header, "status");
    status.className = `badge status-${conversation.status}`;
    status.textContent = statusLabel(conversation.status);
    const priority = field(this.header, "priority");
    priority.className = `badge priority-${conversation.priority}`;
    priority.textContent = priorityLabel(conversation.priority);
    setText(this.header.querySelector("[data-action=resolve]"),
      conversation.status === "resolved" ? gettext("Reopen") : gettext("Resolve"));
  }

  showControls(conversation) {
    field(this.pane, "status-select").value = conversation.status;
    field(this.pane, "priority-select").value = conversation.priority;
    field(this.pane, "assistant-select").value = conversation.assigned_assistant_id || "";
    const agentSelect = field(this.pane, "agent-select");
    if (agentSelect) {
      const id = conversation.assigned_agent_id || "";
      if (id && !agentSelect.querySelector(`option[value="${id}"]`)) {
        agentSelect.append(el("option", { value: id, text: conversation.assigned_agent?.name || id }));
      }
      agentSelect.value = id;
    }
    const agentName = field(this.pane, "agent-name");
    if (agentName) {
      const agent = conversation.assigned_agent;
      agentName.textContent = !agent ? gettext("Unassigned")
        : agent.id === this.boot.user.id ? gettext("You") : agent.name || agent.email;
      this.pane.querySelector("[data-action=assign-me]").hidden =
        Boolean(agent) || !this.boot.agents_see_unassigned;
    }
    const tags = field(this.pane, "tags");
    tags.replaceChildren(...(conversation.tags || []).map((tag) =>
      el("li", { class: "tag-chip", testid: "tag-chip", style: { "--tag-color": tag.color } },
        el("span", { text: tag.name }),
        el("button", {
          type: "button", class: "tag-remove", dataset: { action: "remove-tag", name: tag.name },
          "aria-label": interpolate(gettext("Remove tag %(name)s"), { name: tag.name }, true), text: "×",
        }))));
  }

  showAnalysis(conversation) {
    setText(field(this.pane, "ai-summary"), conversation.ai_summary || gettext("No analysis yet. It appears after the customer writes."));
    field(this.pane, "ai-summary").classList.toggle("muted", !conversation.ai_summary);
    setText(field(this.pane, "ai-priority"), conversation.ai_priority ? priorityLabel(conversation.ai_priority) : "—");
    const tags = field(this.pane, "ai-tags");
    const aiTags = conversation.ai_tags || [];
    tags.replaceChildren(...(aiTags.length ? aiTags.map((tag) => el("span", { class: "tag-chip tag-chip-small", text: tag })) : ["—"]));
    setText(field(this.pane, "ai-analyzed-at"), conversation.ai_analyzed_at ? fullTime(conversation.ai_analyzed_at) : "—");
  }

  showContact(conversation) {
    setText(field(this.pane, "contact-name"), conversation.contact_name || "—");
    setText(field(this.pane, "contact-phone"), conversation.contact_phone || "—");
    setText(field(this.pane, "contact-email"), conversation.contact_email || "—");
    setText(field(this.pane, "contact-channel"), platformLabel(conversation.platform));
    setText(field(this.pane, "created-at"), fullTime(conversation.created_at));
    setText(field(this.pane, "first-response-at"), conversation.first_response_at ? fullTime(conversation.first_response_at) : "—");
    setText(field(this.pane, "message-count"), String(conversation.message_count ?? "—"));
  }
}
