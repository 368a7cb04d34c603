// The agent inbox. Django renders the first paint; this module keeps it live over /ws/,
// pages through the REST API and performs every action through it.
import { api } from "../api.js";
import { Composer } from "./composer.js";
import { Details } from "./details.js";
import { Satisfaction } from "./satisfaction.js";
import { formatTimes } from "./format.js";
import { ConversationList, timeValue } from "./list.js";
import { InboxSocket } from "./socket.js";
import { Thread } from "./thread.js";

const MARK_READ_DELAY_MS = 400;
const CONVERSATION_PATH = /\/inbox\/([0-9a-f-]{36})\/?$/i;

const boot = JSON.parse(document.getElementById("inbox-boot").textContent);
const root = document.querySelector("[data-testid=inbox]");
const threadRoot = root.querySelector("[data-testid=thread]");
const emptyNode = root.querySelector("[data-testid=thread-empty]");
const noticeNode = root.querySelector("[data-testid=thread-notice]");
const detailsPane = root.querySelector("[data-testid=details-pane]");

const conversations = new Map(); // id → the newest conversation object seen
let openId = null;
let readTimer = null;

const list = new ConversationList(root.querySelector(".list-pane"), { boot, onOpen: openConversation });
const thread = new Thread(threadRoot, { boot });
const details = new Details({
  header: root.querySelector("[data-testid=thread-header]"),
  pane: detailsPane,
  boot,
  onChange: remember,
});
const satisfaction = new Satisfaction(detailsPane.querySelector("[data-satisfaction]"));
const composer = new Composer(root.querySelector("[data-testid=composer]"), {
  onSend: send,
  onTyping: (kind) => openId && socket.typing(kind, openId),
});
const socket = new InboxSocket({
  lastEventId: boot.last_event_id,
  pollSeconds: boot.poll_seconds,
  onEvent: apply,
  onState: showConnection,
  onRightsChanged: rightsChanged,
});

// --- state ---------------------------------------------------------------------------------------

function remember(conversation) {
  const known = conversations.get(conversation.id);
  // Events and HTTP answers can cross on the wire: never let an older snapshot win.
  if (known && timeValue(known.updated_at) > timeValue(conversation.updated_at)) return known;
  conversations.set(conversation.id, conversation);
  list.upsert(conversation);
  if (conversation.id === openId) {
    details.show(conversation);
    // The agent is looking at it: whatever arrives (live or caught up) is read.
    if (conversation.unread_count > 0) markReadSoon();
  }
  return conversation;
}

function mergeAnalysis(data) {
  const known = conversations.get(data.conversation_id);
  if (!known) return;
  const { conversation_id: _id, ...analysis } = data;
  const merged = { ...known, ...analysis };
  conversations.set(merged.id, merged);
  if (merged.id === openId) details.show(merged);
}

function forget(conversationId, kind) {
  conversations.delete(conversationId);
  list.remove(conversationId);
  if (conversationId !== openId) return;
  showNotice(kind === "conversation:deleted"
    ? gettext("This conversation was deleted.")
    : gettext("This conversation was assigned to someone else; you can no longer reply."));
}

// --- live events ---------------------------------------------------------------------------------

function apply(event) {
  const data = event.data || {};
  switch (event.type) {
    case "message:new":
      if (data.conversation) remember(data.conversation);
      if (data.conversation_id === openId) {
        thread.add(data.message);
        if (data.message?.sender === "user") satisfaction.load(); // maybe a survey answer
      }
      break;
    case "message:updated":
      if (data.conversation_id === openId) thread.add(data.message);
      break;
    case "message:status":
      if (data.conversation_id === openId) thread.applyStatus(data, event.id);
      break;
    case "conversation:updated":
      if (data.conversation) remember(data.conversation);
      break;
    case "conversation:ai:update":
      mergeAnalysis(data);
      break;
    case "conversation:removed":
    case "conversation:deleted":
      forget(data.conversation_id, event.type);
      break;
    case "typing:start":
    case "typing:stop":
      thread.typing(event.type, data);
      break;
    default:
      break; // pong, conversation:joined, error replies
  }
}

function showConnection(state) {
  const node = root.querySelector("[data-testid=connection-status]");
  node.dataset.state = state;
  const labels = {
    connecting: gettext("Connecting…"),
    online: gettext("Live"),
    offline: gettext("Reconnecting…"),
    "signed-out": gettext("Signed out: reload the page"),
  };
  node.querySelector(".connection-text").textContent = labels[state] || state;
}

// The server closed the socket because the user's rights changed (role, deactivation, the
// workspace's queue setting) and the new socket follows the current ones; the page was built
// under the old ones.
async function rightsChanged() {
  let me;
  try {
    me = await api("/api/auth/me");
  } catch {
    return; // signed out: the socket already says so
  }
  // The server renders the admin controls (assigning, settings): a new role needs a new page.
  if ((me.role === "admin") !== boot.user.is_admin) {
    window.location.reload();
    return;
  }
  try {
    await list.reload();
  } catch (error) {
    console.warn("inbox: could not reload the list", error);
  }
  if (openId) markRead(openId); // tells the user when the open conversation is no longer theirs
}

// --- opening a conversation ----------------------------------------------------------------------

function showNotice(text) {
  noticeNode.textContent = text;
  noticeNode.hidden = !text;
}

async function markRead(conversationId) {
  try {
    remember(await api(`/api/conversations/${conversationId}/read`, { method: "POST" }));
  } catch (error) {
    if (error.status === 404 && conversationId === openId) {
      showNotice(gettext("This conversation is not available to you."));
    }
  }
}

function markReadSoon() {
  if (document.visibilityState !== "visible") return;
  window.clearTimeout(readTimer);
  const conversationId = openId;
  readTimer = window.setTimeout(() => conversationId === openId && markRead(conversationId), MARK_READ_DELAY_MS);
}

async function openConversation(conversationId, { push = false } = {}) {
  if (push) window.history.pushState({ conversationId }, "", `${boot.inbox_url}${conversationId}/${window.location.search}`);
  if (openId === conversationId) return;
  openId = conversationId;
  root.classList.add("has-open");
  emptyNode.hidden = true;
  threadRoot.hidden = false;
  showNotice("");
  composer.reset();
  list.setActive(conversationId);
  socket.join(conversationId);
  const known = conversations.get(conversationId);
  if (known) details.show(known);
  const [messages] = await Promise.allSettled([
    thread.open(conversationId),
    markRead(conversationId),
    satisfaction.show(conversationId),
  ]);
  if (messages.status === "rejected" && conversationId === openId) {
    showNotice(gettext("The messages could not be loaded."));
  }
}

function closeConversation() {
  if (openId) socket.leave(openId);
  openId = null;
  root.classList.remove("has-open");
  list.setActive(null);
  thread.close();
  threadRoot.hidden = true;
  detailsPane.hidden = true;
  emptyNode.hidden = false;
}

async function send(content) {
  const conversationId = openId;
  const message = await api(`/api/conversations/${conversationId}/messages`, { method: "POST", body: { content } });
  if (conversationId === openId) {
    thread.add(message);
    thread.scrollToBottom();
  }
}

function followLocation() {
  const match = window.location.pathname.match(CONVERSATION_PATH);
  if (match) openConversation(match[1].toLowerCase());
  else closeConversation();
}

// --- page wiring ---------------------------------------------------------------------------------

function wireFilters() {
  const form = root.querySelector("[data-testid=inbox-filters]");
  for (const select of form.querySelectorAll("[data-autosubmit]")) {
    select.addEventListener("change", () => form.requestSubmit());
  }
  form.querySelector("[data-testid=filter-apply]").hidden = true;
}

function start() {
  formatTimes(root);
  window.setInterval(() => formatTimes(root.querySelector("[data-testid=conversation-list]")), 60000);
  wireFilters();
  root.querySelector("[data-action=toggle-details]").addEventListener("click", () =>
    root.classList.toggle("details-open"));
  window.addEventListener("popstate", followLocation);
  document.addEventListener("visibilitychange", () => {
    if (openId && (conversations.get(openId)?.unread_count || 0) > 0) markReadSoon();
  });
  socket.connect();
  if (boot.conversation) {
    remember(boot.conversation);
    openConversation(boot.conversation.id);
  }
  // A debugging handle (also used by the browser tests to drop the socket).
  window.__flameInbox = { socket, list, thread, conversations, get openId() { return openId; } };
}

start();
