// The messaging window above the composer (the conversation's messaging_window, computed by
// the server): the time left to answer freely, and once it has closed why free text is not
// possible, with the composer locked and, where the channel allows them, approved templates.
import { api } from "../api.js";
import { el } from "./dom.js";

const TICK_MS = 30000;
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

export function durationLabel(seconds) {
  const minutes = Math.max(1, Math.round(seconds / 60));
  if (minutes < 60) return interpolate(ngettext("%(count)s minute", "%(count)s minutes", minutes), { count: minutes }, true);
  const hours = Math.round(minutes / 60);
  if (hours < 48) return interpolate(ngettext("%(count)s hour", "%(count)s hours", hours), { count: hours }, true);
  const days = Math.round(hours / 24);
  return interpolate(ngettext("%(count)s day", "%(count)s days", days), { count: days }, true);
}

function closedText(window) {
  if (window.templates) {
    return gettext("The messaging window is closed: free text cannot be sent until the customer writes. Send an approved template to reach them.");
  }
  return gettext("The messaging window is closed: this channel does not let you write until the customer writes again.");
}

function openText(window) {
  const left = window.closes_at ? Math.max(0, (new Date(window.closes_at) - Date.now()) / 1000) : null;
  if (left === null) return "";
  const duration = durationLabel(left);
  if (window.human_agent) {
    return interpolate(gettext("The customer wrote more than a day ago: only a person can answer now, for %(left)s more."), { left: duration }, true);
  }
  return interpolate(gettext("Time left to answer freely: %(left)s."), { left: duration }, true);
}

export class ReplyWindow {
  constructor(threadRoot, { composer, files, onSent }) {
    this.node = threadRoot.querySelector("[data-testid=reply-window]");
    this.textNode = this.node.querySelector("[data-testid=reply-window-text]");
    this.templateButton = this.node.querySelector("[data-action=open-templates]");
    this.form = threadRoot.querySelector("[data-testid=composer]");
    this.composer = composer;
    this.files = files;
    this.picker = new TemplatePicker(threadRoot.querySelector("[data-testid=template-dialog]"), { onSent });
    this.conversation = null;
    this.templateButton.addEventListener("click", () => this.picker.open(this.conversation));
    window.setInterval(() => this.conversation && this.show(this.conversation), TICK_MS);
  }

  show(conversation) {
    this.conversation = conversation;
    const window = conversation.messaging_window || { limited: false, open: true };
    const closed = window.limited && !window.open;
    this.node.hidden = !window.limited;
    this.node.dataset.state = closed ? "closed" : "open";
    this.textNode.textContent = closed ? closedText(window) : openText(window);
    this.templateButton.hidden = !window.templates;
    this.lock(closed);
  }

  lock(closed) {
    const input = this.form.querySelector("textarea");
    input.disabled = closed;
    this.form.querySelector("[data-testid=composer-send]").disabled = closed;
    this.files.setDisabled(closed);
    this.form.dataset.windowClosed = String(closed);
  }
}

// --- approved templates --------------------------------------------------------------------------

class TemplatePicker {
  constructor(dialog, { onSent }) {
    this.dialog = dialog;
    this.form = dialog.querySelector("form");
    this.select = dialog.querySelector("[data-testid=template-select]");
    this.parameters = dialog.querySelector("[data-testid=template-parameters]");
    this.preview = dialog.querySelector("[data-testid=template-preview]");
    this.error = dialog.querySelector("[data-testid=template-error]");
    this.empty = dialog.querySelector("[data-testid=template-empty]");
    this.onSent = onSent;
    this.templates = [];
    this.select.addEventListener("change", () => this.showParameters());
    this.parameters.addEventListener("input", () => this.showPreview());
    dialog.querySelector("[data-action=close-templates]").addEventListener("click", () => dialog.close());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
  }

  async open(conversation) {
    this.conversation = conversation;
    this.showError("");
    this.dialog.showModal();
    try {
      this.templates = await api(`/api/conversations/${conversation.id}/templates`);
    } catch (error) {
      this.templates = [];
      this.showError(error.readable || error.message);
    }
    this.select.replaceChildren(...this.templates.map((template, index) =>
      el("option", { value: String(index), text: `${template.name} (${template.language})` })));
    this.empty.hidden = this.templates.length > 0;
    this.showParameters();
  }

  current() {
    return this.templates[Number(this.select.value)] || null;
  }

  showParameters() {
    const template = this.current();
    const fields = [];
    if (template?.header) {
      for (const name of template.header.parameters) {
        const label = template.header.format === "TEXT"
          ? interpolate(gettext("Header {{%(name)s}}"), { name }, true)
          : gettext("Header: link to the file (https)");
        fields.push(this.field("header", label));
      }
    }
    for (const name of template?.body.parameters || []) {
      fields.push(this.field("body", interpolate(gettext("Text {{%(name)s}}"), { name }, true)));
    }
    this.parameters.replaceChildren(...fields);
    this.showPreview();
  }

  field(part, label) {
    return el("label", {}, label, el("input", { type: "text", required: true, maxlength: 1024, dataset: { part }, testid: `template-${part}-parameter` }));
  }

  values(part) {
    return [...this.parameters.querySelectorAll(`input[data-part=${part}]`)].map((input) => input.value);
  }

  showPreview() {
    const template = this.current();
    if (!template) {
      this.preview.replaceChildren();
      return;
    }
    const fill = (text, names, values) => text.replace(PLACEHOLDER, (match, name) => {
      const value = values[names.indexOf(name)];
      return value ? value : match;
    });
    const lines = [];
    if (template.header?.format === "TEXT") lines.push(fill(template.header.text, template.header.parameters, this.values("header")));
    lines.push(fill(template.body.text, template.body.parameters, this.values("body")));
    if (template.footer) lines.push(template.footer);
    this.preview.replaceChildren(...lines.filter(Boolean).map((line) => el("p", { text: line })));
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  async send() {
    const template = this.current();
    if (!template) return;
    const button = this.form.querySelector("[data-testid=template-send]");
    button.disabled = true;
    this.showError("");
    try {
      const body = { template: { name: template.name, language: template.language, header: this.values("header"), body: this.values("body") } };
      const message = await api(`/api/conversations/${this.conversation.id}/messages`, { method: "POST", body });
      this.dialog.close();
      this.onSent(message);
    } catch (error) {
      this.showError(error.readable || error.message);
    } finally {
      button.disabled = false;
    }
  }
}
