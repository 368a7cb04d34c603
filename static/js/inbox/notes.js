// Private notes in the reply box: a "Private note" mode whose messages stay with the team, and
// @mentions of colleagues who can see the conversation (typed "@", picked from a list).
import { api } from "../api.js";
import { Popup, fold, replaceAtCaret, tokenAtCaret } from "./popup.js";

export class Notes {
  constructor({ form, boot, inbox }) {
    this.form = form;
    this.boot = boot;
    this.inbox = inbox;
    this.input = form.querySelector("[data-testid=composer-input]");
    this.placeholder = this.input.placeholder;
    this.tabs = [...form.querySelectorAll("[data-mode]")];
    this.popup = new Popup(form.querySelector("[data-testid=mention-list]"), {
      onPick: (member) => this.insert(member),
    });
    this.mention = null;
    for (const tab of this.tabs) tab.addEventListener("click", () => this.setMode(tab.dataset.mode, { focus: true }));
    this.input.addEventListener("input", () => this.suggest());
    this.input.addEventListener("blur", () => this.popup.hide());
    this.input.addEventListener("keydown", (event) => {
      if (this.popup.key(event)) {
        event.preventDefault();
        event.stopImmediatePropagation(); // Enter picks the colleague, it does not send
      }
    }, true);
  }

  get active() {
    return this.form.classList.contains("is-note");
  }

  setMode(mode, { focus = false } = {}) {
    const note = mode === "note";
    this.form.classList.toggle("is-note", note);
    for (const tab of this.tabs) tab.setAttribute("aria-selected", String(tab.dataset.mode === mode));
    this.input.placeholder = note ? gettext("Write a private note… @ mentions a colleague") : this.placeholder;
    if (!note) this.popup.hide();
    if (focus) this.input.focus();
  }

  // The members who see the open conversation (conversations.audience): admins, its
  // assignee, and everyone when it is in the unassigned queue that agents see.
  candidates() {
    const conversation = this.inbox.current();
    const assignee = conversation?.assigned_agent_id;
    return this.boot.members.filter((member) => member.role === "admin" || member.id === assignee
      || (!assignee && this.boot.agents_see_unassigned));
  }

  suggest() {
    this.mention = this.active ? tokenAtCaret(this.input, "@") : null;
    if (!this.mention) {
      this.popup.hide();
      return;
    }
    const query = fold(this.mention.query);
    const matches = this.candidates().filter((member) =>
      fold(member.name).split(/\s+/).some((word) => word.startsWith(query)) || fold(member.name).startsWith(query));
    this.popup.show(matches.slice(0, 8).map((member) => ({
      label: member.name, detail: member.role === "admin" ? gettext("Admin") : gettext("Agent"), value: member,
    })));
  }

  insert(member) {
    if (this.mention) replaceAtCaret(this.input, this.mention.start, `@${member.name} `);
    this.mention = null;
  }

  async send(conversationId, content) {
    return api(`/api/conversations/${conversationId}/notes`, { method: "POST", body: { content } });
  }
}
