// Keyboard shortcuts of the inbox (any key with Ctrl, Alt or Meta is left to the browser, and
// none fires while typing in a field, except Escape to leave it). "?" lists them.
const TYPING = "input, textarea, select, [contenteditable]";

export class Shortcuts {
  constructor({ root, inbox, notes, canned, dialog }) {
    this.root = root;
    this.inbox = inbox;
    this.notes = notes;
    this.canned = canned;
    this.dialog = dialog;
    this.input = root.querySelector("[data-testid=composer-input]");
    dialog.querySelector("[data-action=close-shortcuts]").addEventListener("click", () => dialog.close());
    document.addEventListener("keydown", (event) => this.pressed(event));
  }

  actions() {
    return {
      j: () => this.step(1),
      k: () => this.step(-1),
      r: () => this.write("reply"),
      n: () => this.write("note"),
      e: () => this.root.querySelector("[data-action=resolve]")?.click(),
      a: () => this.inbox.assignToMe(),
      "/": () => this.canned.openPicker(),
      "?": () => (this.dialog.open ? this.dialog.close() : this.dialog.showModal()),
    };
  }

  pressed(event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    if (event.target.closest?.(TYPING)) {
      if (event.key === "Escape" && event.target === this.input) this.input.blur();
      return;
    }
    if (this.dialog.open && event.key !== "?") return;
    const action = this.actions()[event.key];
    if (!action) return;
    const needsConversation = !["j", "k", "?"].includes(event.key);
    if (needsConversation && !this.inbox.openId()) return;
    event.preventDefault();
    action();
  }

  write(mode) {
    this.notes.setMode(mode, { focus: true });
  }

  // The next (1) or previous (-1) conversation of the list, from the open one.
  step(direction) {
    const items = [...this.root.querySelectorAll("[data-testid=conversation-item]")];
    if (!items.length) return;
    const at = items.findIndex((item) => item.dataset.id === this.inbox.openId());
    const next = at === -1 ? (direction > 0 ? 0 : items.length - 1) : at + direction;
    const item = items[Math.max(0, Math.min(items.length - 1, next))];
    this.inbox.open(item.dataset.id);
    item.scrollIntoView({ block: "nearest" });
  }
}
