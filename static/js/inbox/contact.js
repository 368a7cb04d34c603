// The contact panel: name, phone, e-mail, a note for the team and the workspace's custom
// attributes, editable in place (PATCH /api/contacts/:id); the contact's earlier
// conversations, each a link to its thread; and a link to the duplicate contacts page when
// another contact shares this one's phone or e-mail.
import { api } from "../api.js";
import { el } from "./dom.js";
import { contactName, fullTime, statusLabel } from "./format.js";

function attributeValue(attribute, value) {
  if (value === undefined || value === null || value === "") return "—";
  if (attribute.type === "checkbox") return value ? gettext("Yes") : gettext("No");
  return String(value);
}

function attributeInput(attribute, value) {
  const name = `attribute-${attribute.key}`;
  if (attribute.type === "checkbox") {
    return el("input", { type: "checkbox", name, checked: Boolean(value), dataset: { key: attribute.key, type: attribute.type } });
  }
  const types = { number: "number", date: "date", link: "url", text: "text" };
  return el("input", { type: types[attribute.type] || "text", name, value: value ?? "", step: attribute.type === "number" ? "any" : null,
    dataset: { key: attribute.key, type: attribute.type } });
}

export class ContactPanel {
  constructor({ section, boot, inbox }) {
    this.section = section;
    this.boot = boot;
    this.inbox = inbox;
    this.view = section.querySelector("[data-testid=contact-view]");
    this.form = section.querySelector("[data-testid=contact-form]");
    this.errorNode = section.querySelector("[data-testid=contact-error]");
    this.history = section.querySelector("[data-testid=contact-conversations]");
    this.duplicate = section.querySelector("[data-testid=contact-duplicate]");
    this.attributes = null;
    this.contact = null;
    this.contactId = null;
    section.querySelector("[data-action=edit-contact]").addEventListener("click", () => this.edit(true));
    section.querySelector("[data-action=cancel-contact]").addEventListener("click", () => this.edit(false));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
  }

  async definitions() {
    if (!this.attributes) this.attributes = await api("/api/contact-attributes");
    return this.attributes;
  }

  async show(conversation) {
    if (!conversation || conversation.contact_id === this.contactId) return;
    const contactId = conversation.contact_id;
    this.contactId = contactId;
    this.edit(false);
    this.showDuplicate(false);
    try {
      const [contact, , earlier, duplicates] = await Promise.all([
        api(`/api/contacts/${contactId}`),
        this.definitions(),
        api(`/api/contacts/${contactId}/conversations`),
        api(`/api/contacts/duplicates?contact=${contactId}&limit=1`).catch(() => []),
      ]);
      if (contactId !== this.contactId) return;
      this.contact = contact;
      this.render();
      this.renderHistory(earlier.results, conversation.id);
      this.showDuplicate(duplicates.length > 0);
    } catch (error) {
      console.warn("inbox: could not load the contact", error);
    }
  }

  // The contact changed under the panel (a merge or its undo): the next show loads it again.
  forget() {
    this.contactId = null;
  }

  showDuplicate(found) {
    if (!this.duplicate) return;
    this.duplicate.hidden = !found;
    if (found) this.duplicate.href = `${this.duplicate.dataset.base}?contact=${this.contactId}`;
  }

  render() {
    const contact = this.contact;
    const note = this.view.querySelector("[data-field=contact-note]");
    note.textContent = contact.note || gettext("No note yet.");
    note.classList.toggle("muted", !contact.note);
    const list = this.view.querySelector("[data-field=contact-attributes]");
    list.replaceChildren(...this.attributes.flatMap((attribute) => [
      el("dt", { text: attribute.label }),
      el("dd", { testid: `attribute-${attribute.key}`, text: attributeValue(attribute, contact.attributes?.[attribute.key]) }),
    ]));
  }

  renderHistory(conversations, currentId) {
    const others = conversations.filter((conversation) => conversation.id !== currentId);
    this.history.replaceChildren(...(others.length ? others.map((conversation) => el("li", {},
      el("a", { href: `${this.boot.inbox_url}${conversation.id}/`, testid: "contact-conversation" },
        el("span", { text: conversation.last_message || contactName(conversation) }),
        el("span", { class: "muted", text: ` · ${statusLabel(conversation.status)} · ${fullTime(conversation.last_message_at)}` }))))
      : [el("li", { class: "muted", text: gettext("No earlier conversations.") })]));
  }

  edit(on) {
    this.form.hidden = !on;
    this.view.hidden = on;
    this.showError("");
    if (!on || !this.contact) return;
    const contact = this.contact;
    for (const name of ["name", "phone", "email", "note"]) this.form.elements[name].value = contact[name] || "";
    const holder = this.form.querySelector("[data-field=attribute-inputs]");
    holder.replaceChildren(...this.attributes.map((attribute) => el("label", { class: attribute.type === "checkbox" ? "inline" : "" },
      attribute.type === "checkbox" ? null : attribute.label,
      attributeInput(attribute, contact.attributes?.[attribute.key]),
      attribute.type === "checkbox" ? el("span", { text: attribute.label }) : null)));
    this.form.elements.name.focus();
  }

  values() {
    const attributes = {};
    for (const input of this.form.querySelectorAll("[data-key]")) {
      attributes[input.dataset.key] = input.dataset.type === "checkbox" ? input.checked : input.value;
    }
    const body = { attributes };
    for (const name of ["name", "phone", "email", "note"]) body[name] = this.form.elements[name].value;
    return body;
  }

  async save() {
    const button = this.form.querySelector("[type=submit]");
    button.disabled = true;
    try {
      this.contact = await api(`/api/contacts/${this.contactId}`, { method: "PATCH", body: this.values() });
      this.render();
      this.edit(false);
    } catch (error) {
      this.showError(error.readable || error.message);
    } finally {
      button.disabled = false;
    }
  }

  showError(text) {
    this.errorNode.textContent = text;
    this.errorNode.hidden = !text;
  }
}
