// Many conversations at once: "Select" turns the list into check boxes (a click selects), and
// the bar applies one change to all of them in one request (POST /api/conversations/bulk):
// assign, status, priority, add or remove a tag, snooze.
import { api } from "../api.js";
import { snoozeUntil } from "./snooze.js";

export class Bulk {
  constructor({ pane, inbox }) {
    this.pane = pane;
    this.inbox = inbox;
    this.listNode = pane.querySelector("[data-testid=conversation-list]");
    this.toggleButton = pane.querySelector("[data-action=bulk-toggle]");
    this.bar = pane.querySelector("[data-testid=bulk-bar]");
    this.countNode = this.bar.querySelector("[data-testid=bulk-count]");
    this.messageNode = this.bar.querySelector("[data-testid=bulk-message]");
    this.selected = new Set();
    this.toggleButton.addEventListener("click", () => this.setSelecting(!this.selecting));
    // Capturing: while selecting, a click on a row selects it instead of opening it.
    this.listNode.addEventListener("click", (event) => this.clicked(event), true);
    this.bar.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit(event.submitter);
    });
    new MutationObserver(() => this.mark()).observe(this.listNode, { childList: true });
  }

  get selecting() {
    return this.pane.classList.contains("is-selecting");
  }

  setSelecting(on) {
    this.pane.classList.toggle("is-selecting", on);
    this.toggleButton.setAttribute("aria-pressed", String(on));
    this.toggleButton.textContent = on ? gettext("Cancel") : gettext("Select");
    this.bar.hidden = !on;
    if (!on) this.selected.clear();
    this.showMessage("");
    this.mark();
  }

  clicked(event) {
    if (!this.selecting) return;
    const item = event.target.closest("[data-testid=conversation-item]");
    if (!item) return;
    event.preventDefault();
    event.stopPropagation();
    const { id } = item.dataset;
    if (this.selected.has(id)) this.selected.delete(id);
    else this.selected.add(id);
    this.mark();
  }

  // Rows are re-rendered by live updates: their selection is put back each time.
  mark() {
    for (const item of this.listNode.querySelectorAll("[data-testid=conversation-item]")) {
      const on = this.selecting && this.selected.has(item.dataset.id);
      item.classList.toggle("is-selected", on);
      if (this.selecting) item.setAttribute("aria-selected", String(on));
      else item.removeAttribute("aria-selected");
    }
    this.countNode.textContent = interpolate(
      ngettext("%(count)s selected", "%(count)s selected", this.selected.size), { count: this.selected.size }, true);
    for (const button of this.bar.querySelectorAll("button[data-bulk]")) button.disabled = this.selected.size === 0;
  }

  showMessage(text, { error = false } = {}) {
    this.messageNode.textContent = text;
    this.messageNode.hidden = !text;
    this.messageNode.classList.toggle("is-error", error);
  }

  change(action) {
    const value = (name) => this.bar.querySelector(`[name=${name}]`).value;
    if (action === "assign") return { agent_id: value("agent_id") || null };
    if (action === "status" || action === "priority") return { [action]: value(action) };
    if (action === "add_tag" || action === "remove_tag") return { tag: value("tag").trim() };
    const until = snoozeUntil(value("snooze"));
    return { until: until ? until.toISOString() : null };
  }

  async submit(button) {
    const action = button?.dataset.bulk;
    if (!action || !this.selected.size) return;
    const body = { conversation_ids: [...this.selected], action, ...this.change(action) };
    button.disabled = true;
    try {
      const answer = await api("/api/conversations/bulk", { method: "POST", body });
      for (const conversation of answer.conversations) this.inbox.remember(conversation);
      // Those that left this list (resolved, snoozed, given to someone else) leave the selection.
      this.selected = new Set([...this.selected].filter((id) =>
        this.listNode.querySelector(`[data-testid=conversation-item][data-id="${id}"]`)));
      this.mark();
      this.showMessage(interpolate(ngettext("%(count)s conversation updated.", "%(count)s conversations updated.",
        answer.conversations.length), { count: answer.conversations.length }, true));
    } catch (error) {
      this.showMessage(error.readable || error.message, { error: true });
    } finally {
      button.disabled = false;
    }
  }
}
