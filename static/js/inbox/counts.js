// Unread conversations on the Mine / Unassigned / All / Waiting tabs, kept current: any change
// to a conversation asks the server again (once for a burst of events).
import { api } from "../api.js";

const SETTLE_MS = 600;
const COUNTED = new Set(["message:new", "conversation:updated", "conversation:removed", "conversation:deleted"]);

export class Counts {
  constructor({ root }) {
    this.badges = [...root.querySelectorAll("[data-count]")];
    this.timer = null;
  }

  apply(event) {
    if (!this.badges.length || !COUNTED.has(event.type)) return;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.refresh(), SETTLE_MS);
  }

  async refresh() {
    let counts;
    try {
      counts = await api("/api/conversations/counts");
    } catch {
      return;
    }
    for (const badge of this.badges) {
      const count = counts[badge.dataset.count] || 0;
      badge.textContent = String(count);
      badge.hidden = count === 0;
    }
  }
}
