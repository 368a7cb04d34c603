// The reply box: Enter sends, Shift+Enter adds a line; typing is announced to other agents.
// Touch keyboards have no Shift+Enter: there Enter adds a line and the Send button sends.
const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 4000;
const enterSends = () => !window.matchMedia("(pointer: coarse)").matches;

export class Composer {
  constructor(form, { onSend, onTyping, files = null }) {
    this.form = form;
    this.files = files; // the attached file, if any (attachments.js)
    this.input = form.querySelector("[data-testid=composer-input]");
    this.error = form.querySelector("[data-testid=composer-error]");
    this.button = form.querySelector("[data-testid=composer-send]");
    this.onSend = onSend;
    this.onTyping = onTyping;
    this.typingSince = 0;
    this.idleTimer = null;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && enterSends()) {
        event.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener("input", () => this.typed());
    this.input.addEventListener("blur", () => this.stopTyping());
  }

  reset() {
    this.stopTyping();
    this.input.value = "";
    this.files?.clear();
    this.showError("");
  }

  focus() {
    this.input.focus();
  }

  typed() {
    const now = Date.now();
    if (!this.input.value.trim()) {
      this.stopTyping();
      return;
    }
    if (now - this.typingSince > TYPING_REPEAT_MS) {
      this.typingSince = now;
      this.onTyping("typing:start");
    }
    window.clearTimeout(this.idleTimer);
    this.idleTimer = window.setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    window.clearTimeout(this.idleTimer);
    if (this.typingSince) {
      this.typingSince = 0;
      this.onTyping("typing:stop");
    }
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  async send() {
    const content = this.input.value;
    const file = this.files?.file || null;
    if ((!content.trim() && !file) || this.button.disabled) return;
    this.stopTyping();
    this.showError("");
    this.button.disabled = true;
    this.input.value = "";
    try {
      await this.onSend(content, file);
      if (file) this.files.clear();
    } catch (error) {
      if (!this.input.value) this.input.value = content;
      this.showError(error.readable || error.message || gettext("The message could not be sent."));
    } finally {
      this.button.disabled = false;
      this.input.focus();
    }
  }
}
