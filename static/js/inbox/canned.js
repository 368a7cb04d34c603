// Saved replies in the reply box: "/" opens a searchable list (the workspace's and your own);
// picking one puts its text in the box with {{contact.name}}, {{agent.name}} and the other
// variables filled for this conversation. Keyboard only is enough: ↑ ↓, Enter, Escape.
import { api } from "../api.js";
import { Popup, fold, replaceAtCaret, tokenAtCaret } from "./popup.js";

const STALE_MS = 60000;

function firstWord(text) {
  return String(text || "").trim().split(/\s+/)[0] || "";
}

// The values a saved reply may name, for the open conversation and the signed-in agent.
export function fillVariables(text, { conversation, agent }) {
  const contactName = conversation?.contact_name || "";
  const values = {
    "contact.name": contactName,
    "contact.first_name": firstWord(contactName),
    "contact.email": conversation?.contact_email || "",
    "contact.phone": conversation?.contact_phone || "",
    "agent.name": agent.name || "",
    "agent.first_name": firstWord(agent.name),
  };
  return text.replace(/\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}/g, (whole, name) => (name in values ? values[name] : whole));
}

export class Canned {
  constructor({ form, boot, inbox }) {
    this.boot = boot;
    this.inbox = inbox;
    this.input = form.querySelector("[data-testid=composer-input]");
    this.popup = new Popup(form.querySelector("[data-testid=saved-reply-picker]"), {
      onPick: (reply) => this.insert(reply),
    });
    this.replies = null;
    this.loadedAt = 0;
    this.token = null;
    form.querySelector("[data-action=open-picker]")?.addEventListener("click", () => this.openPicker());
    this.input.addEventListener("input", () => this.suggest());
    this.input.addEventListener("blur", () => this.popup.hide());
    this.input.addEventListener("keydown", (event) => {
      if (this.popup.key(event)) {
        event.preventDefault();
        event.stopImmediatePropagation(); // Enter picks the reply, it does not send
      }
    }, true);
  }

  async load() {
    if (this.replies && Date.now() - this.loadedAt < STALE_MS) return this.replies;
    this.replies = await api("/api/saved-replies");
    this.loadedAt = Date.now();
    return this.replies;
  }

  // Start a "/" where the caret is (the shortcut and the button do this).
  openPicker() {
    const { value } = this.input;
    const at = this.input.selectionStart ?? value.length;
    const glue = at > 0 && !/\s/.test(value[at - 1]) ? " /" : "/";
    this.input.focus();
    this.input.setSelectionRange(at, at);
    replaceAtCaret(this.input, at, glue);
  }

  async suggest() {
    const token = tokenAtCaret(this.input, "/");
    this.token = token;
    if (!token) {
      this.popup.hide();
      return;
    }
    let replies;
    try {
      replies = await this.load();
    } catch {
      return;
    }
    if (this.token !== token) return; // typed on meanwhile
    const query = fold(token.query);
    const found = replies.filter((reply) => fold(reply.short_code).startsWith(query) || fold(reply.content).includes(query));
    this.popup.show(found.slice(0, 8).map((reply) => ({
      label: `/${reply.short_code}`, detail: reply.content.slice(0, 80), value: reply,
    })), { empty: gettext("No saved reply matches.") });
  }

  insert(reply) {
    if (!this.token) return;
    const text = fillVariables(reply.content, { conversation: this.inbox.current(), agent: this.boot.user });
    replaceAtCaret(this.input, this.token.start, text);
    this.token = null;
  }
}
