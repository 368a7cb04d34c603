// The AI helping the agent: apply its suggested priority or tags with one click, and "Suggest
// a reply", which drafts an answer into the reply box (the agent edits and sends it).
import { api } from "../api.js";

export class Insights {
  constructor({ panel, form, inbox }) {
    this.panel = panel;
    this.form = form;
    this.inbox = inbox;
    this.input = form.querySelector("[data-testid=composer-input]");
    this.errorNode = form.querySelector("[data-testid=composer-error]");
    this.applyPriority = panel.querySelector("[data-action=ai-apply-priority]");
    this.applyTags = panel.querySelector("[data-action=ai-apply-tags]");
    this.suggestButton = form.querySelector("[data-action=suggest-reply]");
    this.applyPriority.addEventListener("click", () => this.patch((c) => ({ priority: c.ai_priority })));
    this.applyTags.addEventListener("click", () => this.patch((c) => ({
      tags: [...new Set([...(c.tags || []).map((tag) => tag.name), ...(c.ai_tags || [])])],
    })));
    this.suggestButton.addEventListener("click", () => this.suggest());
  }

  show(conversation) {
    const names = new Set((conversation.tags || []).map((tag) => tag.name.toLowerCase()));
    this.applyPriority.hidden = !conversation.ai_priority || conversation.ai_priority === conversation.priority;
    this.applyTags.hidden = !(conversation.ai_tags || []).some((tag) => !names.has(tag.toLowerCase()));
  }

  async patch(change) {
    const conversation = this.inbox.current();
    if (!conversation) return;
    try {
      this.inbox.remember(await api(`/api/conversations/${conversation.id}`, { method: "PATCH", body: change(conversation) }));
    } catch (error) {
      this.inbox.notice(error.readable || error.message);
    }
  }

  async suggest() {
    const conversation = this.inbox.current();
    if (!conversation || this.suggestButton.disabled) return;
    const label = this.suggestButton.textContent;
    this.suggestButton.disabled = true;
    this.suggestButton.textContent = gettext("Thinking…");
    this.showError("");
    try {
      const suggestion = await api(`/api/conversations/${conversation.id}/suggest-reply`, { method: "POST" });
      if (!suggestion.text) {
        this.showError(gettext("No suggestion this time: nothing in the knowledge matches."));
        return;
      }
      // The draft goes where the agent writes: the box, never to the customer on its own.
      this.input.value = this.input.value.trim() ? `${this.input.value.trimEnd()}\n${suggestion.text}` : suggestion.text;
      this.input.dispatchEvent(new Event("input", { bubbles: true }));
      this.input.focus();
    } catch (error) {
      this.showError(error.readable || error.message);
    } finally {
      this.suggestButton.disabled = false;
      this.suggestButton.textContent = label;
    }
  }

  showError(text) {
    this.errorNode.textContent = text;
    this.errorNode.hidden = !text;
  }
}
