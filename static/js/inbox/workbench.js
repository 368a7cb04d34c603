// The agent's workbench in the inbox: private notes and @mentions, saved replies, the history
// lines, snooze, bulk changes, unread counts per tab, the contact panel, AI help and keyboard
// shortcuts. main.js hands it the inbox (``inbox`` below) and every live event.
import { api } from "../api.js";
import { Activity } from "./activity.js";
import { Bulk } from "./bulk.js";
import { Canned } from "./canned.js";
import { ContactPanel } from "./contact.js";
import { Counts } from "./counts.js";
import { Insights } from "./insights.js";
import { Notes } from "./notes.js";
import { Shortcuts } from "./shortcuts.js";
import { Snooze } from "./snooze.js";

export class Workbench {
  // inbox: { root, boot, thread, details, composer, conversations, openId(), open(id),
  //          remember(conversation), notice(text) }
  constructor(inbox) {
    const { root, boot, thread, details, composer } = inbox;
    this.inbox = { ...inbox, current: () => inbox.conversations.get(inbox.openId()), assignToMe: () => this.assignToMe() };
    const form = root.querySelector("[data-testid=composer]");
    this.notes = new Notes({ form, boot, inbox: this.inbox });
    this.canned = new Canned({ form, boot, inbox: this.inbox });
    this.activity = new Activity({ thread });
    this.snooze = new Snooze({ root: root.querySelector("[data-testid=snooze]"), inbox: this.inbox });
    this.bulk = new Bulk({ pane: root.querySelector(".list-pane"), inbox: this.inbox });
    this.counts = new Counts({ root });
    this.contact = new ContactPanel({ section: root.querySelector("[data-testid=contact-panel]"), boot, inbox: this.inbox });
    this.insights = new Insights({ panel: root.querySelector("[data-testid=ai-panel]"), form, inbox: this.inbox });
    this.shortcuts = new Shortcuts({
      root, inbox: this.inbox, notes: this.notes, canned: this.canned,
      dialog: document.querySelector("[data-testid=shortcuts-dialog]"),
    });
    this.routeNotes(composer);
    // Whatever shows a conversation shows it here too.
    const show = details.show.bind(details);
    details.show = (conversation) => {
      show(conversation);
      this.shown(conversation);
    };
  }

  // In note mode the reply box posts a note instead of a message.
  routeNotes(composer) {
    const reply = composer.onSend;
    composer.onSend = async (content, file) => {
      if (!this.notes.active) return reply(content, file);
      const conversationId = this.inbox.openId();
      const note = await this.notes.send(conversationId, content);
      if (conversationId === this.inbox.openId()) {
        this.inbox.thread.add(note);
        this.inbox.thread.scrollToBottom();
      }
      return note;
    };
  }

  shown(conversation) {
    this.snooze.show(conversation);
    this.insights.show(conversation);
    this.contact.show(conversation);
  }

  opened(conversationId) {
    this.activity.opened(conversationId);
    if (conversationId) {
      // What the bell said about it is read now.
      api("/api/notifications/read-conversation", { method: "POST", body: { conversation_id: conversationId } })
        .catch(() => {});
    }
  }

  apply(event) {
    this.activity.apply(event);
    this.counts.apply(event);
    // The bell (static/js/notifications.js) listens on every page; here it hears this socket.
    document.dispatchEvent(new CustomEvent("flame:event", { detail: event }));
  }

  async assignToMe() {
    const conversationId = this.inbox.openId();
    if (!conversationId) return;
    try {
      this.inbox.remember(await api(`/api/conversations/${conversationId}/assign`, {
        method: "POST", body: { agent_id: this.inbox.boot.user.id },
      }));
    } catch (error) {
      this.inbox.notice(error.readable || error.message);
    }
  }
}
