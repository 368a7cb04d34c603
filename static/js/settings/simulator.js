// The sandbox simulator: post a customer message to /api/webhooks/sandbox/:id as the signed-in
// member; it goes through ingestion like a real webhook and lands in the inbox.
import { api } from "../api.js";

const form = document.querySelector("[data-simulator]");
const result = form.querySelector("[data-simulator-result]");
const button = form.querySelector("button[type=submit]");
const text = form.elements.text;

function show(kind, message, withInboxLink) {
  result.className = `sim-result sim-${kind}`;
  result.dataset.state = kind;
  result.replaceChildren(document.createTextNode(message));
  if (withInboxLink) {
    const link = document.createElement("a");
    link.href = form.dataset.inboxUrl;
    link.textContent = gettext("See it in the inbox");
    link.dataset.testid = "sim-inbox-link";
    result.append(" ", link);
  }
}

// The channel's activity counts on this page, read again once a simulated message is in.
async function refreshCounts() {
  try {
    const status = await api(form.dataset.statusEndpoint);
    for (const [name, value] of Object.entries(status.counts)) {
      const cell = document.querySelector(`[data-count="${name}"]`);
      if (cell) cell.textContent = String(value);
    }
  } catch {
    // The counts are a convenience: a reload shows them.
  }
}

button.disabled = false; // the page's own button stays off until this script handles it

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = {
    from: form.elements.from.value.trim(),
    name: form.elements.name.value.trim(),
    text: text.value.trim(),
  };
  if (!body.from || !body.text) {
    show("error", gettext("Write a customer ID and a message."), false);
    return;
  }
  button.disabled = true;
  show("pending", gettext("Sending…"), false);
  try {
    await api(form.dataset.endpoint, { method: "POST", body });
    show("ok", interpolate(gettext("Received from %s."), [body.name || body.from]), true);
    refreshCounts();
    text.value = "";
    text.focus();
  } catch (error) {
    show("error", error.readable || gettext("The message could not be sent. Try again."), false);
  } finally {
    button.disabled = false;
  }
});

text.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
});
