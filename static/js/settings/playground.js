// The playground: what the assistant would answer, through POST /api/assistants/:id/test.
// Nothing is sent to a customer; the conversation so far goes along as history.
import { api } from "../api.js";

const MAX_HISTORY = 20;
const SOURCES = {
  ai: gettext("AI answer"),
  knowledge: gettext("From the knowledge base"),
  auto_response: gettext("Fixed reply"),
  handoff: gettext("Handed to a person"),
  notice: gettext("Notice"),
};

const root = document.querySelector("[data-playground]");
const log = root.querySelector("[data-playground-log]");
const form = root.querySelector("[data-playground-form]");
const input = form.querySelector("textarea");
const sendButton = form.querySelector("button[type=submit]");
const errorBox = root.querySelector("[data-playground-error]");
let history = [];

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function addBubble(who, text) {
  root.querySelector("[data-playground-empty]")?.remove();
  const bubble = element("div", `bubble bubble-${who}`);
  bubble.append(element("div", "bubble-text", text));
  log.append(bubble);
  log.scrollTop = log.scrollHeight;
  return bubble;
}

function usageLine(answer) {
  const parts = [SOURCES[answer.source] || answer.source];
  if (answer.model) parts.push(answer.provider ? `${answer.provider} · ${answer.model}` : answer.model);
  if (answer.usage) {
    const tokens = answer.usage.prompt_tokens + answer.usage.completion_tokens;
    parts.push(interpolate(gettext("%s tokens"), [tokens]));
    parts.push(interpolate(gettext("%s ms"), [answer.usage.latency_ms]));
  }
  return parts.join(" · ");
}

function snippetList(snippets) {
  const details = element("details", "snippets");
  details.append(element("summary", "", interpolate(gettext("Knowledge used (%s)"), [snippets.length])));
  for (const snippet of snippets) {
    const item = element("div", "snippet");
    const head = element("div", "snippet-head");
    head.append(element("strong", "", snippet.title));
    head.append(element("span", "muted", interpolate(gettext("match %s percent"), [Math.round(snippet.score * 100)])));
    item.append(head, element("p", "snippet-text", snippet.content));
    details.append(item);
  }
  return details;
}

function showAnswer(answer) {
  const bubble = addBubble("assistant", answer.reply || gettext("(no answer)"));
  bubble.dataset.testid = "playground-answer";
  bubble.append(element("div", "bubble-meta", usageLine(answer)));
  if (answer.on_duty === false) {
    bubble.append(element("div", "bubble-note", gettext("Outside its schedule: customers would not get an automatic answer right now.")));
  }
  if (answer.error) {
    bubble.append(element("div", "bubble-note", interpolate(gettext("Fallback used (reason: %s)."), [answer.error])));
  }
  if (answer.snippets && answer.snippets.length) bubble.append(snippetList(answer.snippets));
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

async function send(message) {
  showError("");
  addBubble("user", message);
  sendButton.disabled = true;
  const typing = addBubble("assistant typing", gettext("Thinking…"));
  try {
    const answer = await api(root.dataset.endpoint, {
      method: "POST",
      body: { message, history: history.slice(-MAX_HISTORY) },
    });
    typing.remove();
    showAnswer(answer);
    history.push({ role: "user", content: message }, { role: "assistant", content: answer.reply || "" });
    history = history.filter((turn) => turn.content).slice(-MAX_HISTORY);
  } catch (error) {
    typing.remove();
    showError(error.readable || gettext("The assistant could not answer. Try again."));
  } finally {
    sendButton.disabled = false;
    input.focus();
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const message = input.value.trim();
  if (!message) return;
  input.value = "";
  send(message);
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    form.requestSubmit();
  }
});

sendButton.disabled = false; // the page's own button stays off until this script handles it

root.querySelector("[data-playground-clear]").addEventListener("click", () => {
  history = [];
  log.replaceChildren(element("p", "chat-empty muted", gettext("Cleared. Start a new conversation.")));
  showError("");
});
