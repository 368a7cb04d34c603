// The details panel's satisfaction section: the conversation's newest rating (from the
// customer's survey answer or recorded by an agent) and a form to record one given by phone.
import { api } from "../api.js";
import { el, field } from "./dom.js";
import { fullTime } from "./format.js";

export class Satisfaction {
  constructor(section) {
    this.section = section;
    this.conversationId = null;
    this.output = field(section, "rating");
    this.form = section.querySelector("form");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.record();
    });
  }

  show(conversationId) {
    this.conversationId = conversationId;
    this.output.textContent = "";
    return this.load();
  }

  // Called again when the customer writes: a survey answer arrives as a message.
  async load() {
    const id = this.conversationId;
    if (!id) return;
    try {
      const page = await api(`/api/conversations/${id}/rating`);
      if (id === this.conversationId) this.render(page.results);
    } catch {
      if (id === this.conversationId) this.say(gettext("The rating could not be loaded."), true);
    }
  }

  say(text, muted) {
    this.output.replaceChildren(text);
    this.output.classList.toggle("muted", muted);
  }

  render(ratings) {
    if (!ratings.length) {
      this.say(gettext("No rating yet."), true);
      return;
    }
    const latest = ratings[0];
    const source = latest.source === "agent" ? gettext("recorded by an agent") : gettext("from the customer");
    this.say(interpolate(gettext("%(score)s of 5 · %(source)s · %(when)s"),
      { score: latest.score, source, when: fullTime(latest.created_at) }, true), false);
    this.output.prepend(el("span", { class: "rating-stars", "aria-hidden": "true", text: "★".repeat(latest.score) }), " ");
    if (latest.comment) this.output.append(el("q", { class: "rating-comment", text: latest.comment }));
  }

  async record() {
    const id = this.conversationId;
    const body = {
      score: Number(this.form.elements.score.value),
      comment: this.form.elements.comment.value.trim(),
    };
    try {
      // The rating just recorded is the newest: it is what the section shows.
      const rating = await api(`/api/conversations/${id}/rating`, { method: "POST", body });
      this.form.elements.comment.value = "";
      if (id === this.conversationId) this.render([rating]);
    } catch (error) {
      this.say(error.readable || error.message, false);
    }
  }
}
