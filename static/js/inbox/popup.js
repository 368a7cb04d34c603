// A list of choices under the reply box, worked from the keyboard (↑ ↓ to move, Enter or Tab
// to pick, Escape to close) while the focus stays in the text: the saved-reply picker and the
// @mention autocomplete.
import { el } from "./dom.js";

export class Popup {
  constructor(node, { onPick }) {
    this.node = node;
    this.onPick = onPick;
    this.items = [];
    this.index = 0;
    node.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus
    node.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.pick(Number(option.dataset.index));
    });
  }

  get open() {
    return !this.node.hidden;
  }

  // ``items``: [{ label, detail, value }]; an empty list shows ``empty`` (or closes).
  show(items, { empty = "" } = {}) {
    this.items = items;
    this.index = 0;
    if (!items.length && !empty) {
      this.hide();
      return;
    }
    this.node.replaceChildren(...(items.length ? items.map((item, index) => this.option(item, index))
      : [el("li", { class: "popup-empty", text: empty })]));
    this.node.hidden = false;
    this.highlight();
  }

  option(item, index) {
    return el("li", { role: "option", id: `${this.node.id}-${index}`, class: "popup-option", testid: "popup-option", dataset: { index: String(index) } },
      el("span", { class: "popup-label", text: item.label }),
      item.detail ? el("span", { class: "popup-detail", text: item.detail }) : null);
  }

  hide() {
    this.node.hidden = true;
    this.items = [];
  }

  highlight() {
    for (const option of this.node.querySelectorAll("[role=option]")) {
      option.setAttribute("aria-selected", String(Number(option.dataset.index) === this.index));
    }
    this.node.querySelector("[aria-selected=true]")?.scrollIntoView({ block: "nearest" });
  }

  pick(index) {
    const item = this.items[index];
    this.hide();
    if (item) this.onPick(item.value);
  }

  // Handles the key when the list is open; true when it did (the caller stops it there).
  key(event) {
    if (!this.open) return false;
    if (event.key === "Escape") {
      this.hide();
      return true;
    }
    if (!this.items.length) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.index = (this.index + step + this.items.length) % this.items.length;
      this.highlight();
      return true;
    }
    if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      this.pick(this.index);
      return true;
    }
    return false;
  }
}

// Accents and case ignored, like the server's search.
export function fold(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

// The word being typed at the caret when it starts with ``sigil`` (after a space or at the
// start): { start, query } or null.
export function tokenAtCaret(input, sigil) {
  const before = input.value.slice(0, input.selectionStart);
  const match = before.match(new RegExp(`(^|\\s)\\${sigil}([^\\s${sigil}]{0,40})$`));
  if (!match) return null;
  return { start: before.length - match[2].length - 1, query: match[2] };
}

// Replace the text from ``start`` to the caret with ``text`` and put the caret after it.
export function replaceAtCaret(input, start, text) {
  const end = input.selectionStart;
  input.value = `${input.value.slice(0, start)}${text}${input.value.slice(end)}`;
  const caret = start + text.length;
  input.setSelectionRange(caret, caret);
  input.dispatchEvent(new Event("input", { bubbles: true }));
}
