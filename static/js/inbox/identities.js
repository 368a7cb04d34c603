// The contact's identity on each channel in the contact panel: platform, their id there, the
// handle they use, and whether they blocked us.
import { api } from "../api.js";
import { el } from "./dom.js";
import { platformLabel } from "./format.js";

export class Identities {
  constructor(listNode) {
    this.listNode = listNode;
    this.contactId = null;
  }

  async show(conversation) {
    if (!this.listNode || conversation.contact_id === this.contactId) return;
    const contactId = conversation.contact_id;
    this.contactId = contactId;
    this.listNode.replaceChildren();
    try {
      const contact = await api(`/api/contacts/${contactId}`);
      if (contactId === this.contactId) this.render(contact.identities || []);
    } catch (error) {
      if (contactId === this.contactId) this.contactId = null; // try again next time
    }
  }

  // The contact changed under the panel (a merge or its undo): the next show loads it again.
  forget() {
    this.contactId = null;
  }

  render(identities) {
    if (!identities.length) {
      this.listNode.replaceChildren(el("li", { class: "muted", text: gettext("No channel yet.") }));
      return;
    }
    this.listNode.replaceChildren(...identities.map((identity) => el("li", { class: "identity", testid: "contact-identity", dataset: { platform: identity.platform } },
      el("span", { class: "identity-platform", text: platformLabel(identity.platform) }),
      el("span", { class: "identity-id code", testid: "identity-external-id", text: identity.external_id }),
      identity.username ? el("span", { class: "identity-username", testid: "identity-username", text: `@${identity.username}` }) : null,
      identity.blocked ? el("span", { class: "badge badge-danger", testid: "identity-blocked", text: gettext("Blocked us") }) : null)));
  }
}
