// Snoozing from the thread header: for an hour, until tomorrow morning, until next week, until
// the customer writes, or until a chosen time; "Unsnooze" brings it back at once.
import { api } from "../api.js";
import { fullTime } from "./format.js";

const MORNING_HOUR = 9;

// When a choice of the menu ends, from now (the agent's own clock and time zone).
export function snoozeUntil(choice, now = new Date()) {
  const at = new Date(now);
  if (choice === "hour") return new Date(now.getTime() + 3600 * 1000);
  if (choice === "tomorrow") {
    at.setDate(at.getDate() + 1);
  } else if (choice === "week") {
    at.setDate(at.getDate() + ((8 - at.getDay()) % 7 || 7)); // next Monday
  } else {
    return null; // until the customer writes
  }
  at.setHours(MORNING_HOUR, 0, 0, 0);
  return at;
}

export class Snooze {
  constructor({ root, inbox }) {
    this.root = root;
    this.inbox = inbox;
    this.button = root.querySelector("[data-action=snooze-menu]");
    this.menu = root.querySelector("[data-testid=snooze-menu]");
    this.unsnoozeButton = root.querySelector("[data-action=unsnooze]");
    this.badge = root.ownerDocument.querySelector("[data-field=snoozed]");
    this.button.addEventListener("click", () => this.toggle(this.menu.hidden));
    this.unsnoozeButton.addEventListener("click", () => this.act("unsnooze", undefined));
    this.menu.addEventListener("click", (event) => {
      const choice = event.target.closest("[data-snooze]")?.dataset.snooze;
      if (choice) this.choose(choice);
    });
    root.ownerDocument.addEventListener("click", (event) => {
      if (!this.menu.hidden && !root.contains(event.target)) this.toggle(false);
    });
    this.menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        this.toggle(false);
        this.button.focus();
      }
    });
  }

  toggle(open) {
    this.menu.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) this.menu.querySelector("button")?.focus();
  }

  choose(choice) {
    if (choice === "custom") {
      const value = this.menu.querySelector("[data-testid=snooze-until]").value;
      if (!value) return;
      this.act("snooze", new Date(value));
      return;
    }
    this.act("snooze", snoozeUntil(choice));
  }

  async act(path, until) {
    const conversation = this.inbox.current();
    if (!conversation) return;
    this.toggle(false);
    try {
      const body = path === "snooze" ? { until: until ? until.toISOString() : null } : undefined;
      this.inbox.remember(await api(`/api/conversations/${conversation.id}/${path}`, { method: "POST", body }));
    } catch (error) {
      this.inbox.notice(error.readable || error.message);
    }
  }

  show(conversation) {
    const snoozed = Boolean(conversation.snoozed);
    this.unsnoozeButton.hidden = !snoozed;
    this.button.hidden = snoozed || !["active", "pending"].includes(conversation.status);
    if (!this.badge) return;
    this.badge.hidden = !snoozed;
    this.badge.textContent = !snoozed ? ""
      : conversation.snoozed_until ? interpolate(gettext("Snoozed until %(time)s"), { time: fullTime(conversation.snoozed_until) }, true)
        : gettext("Snoozed until the customer writes");
  }
}

