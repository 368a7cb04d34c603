// The agent inbox. Django renders the first paint; this module keeps it live over /ws/,
// pages through the REST API and performs every action through it.
import { api } from "../api.js";
import { ComposerFiles } from "./attachments.js";
import { Composer } from "./composer.js";
import { Details } from "./details.js";
import { Satisfaction } from "./satisfaction.js";
import { formatTimes } from "./format.js";
import { Identities } from "./identities.js";
import { ConversationList, timeValue } from "./list.js";
import { InboxSocket } from "./socket.js";
import { Thread } from "./thread.js";
import { ReplyWindow } from "./window.js";
import { Workbench } from "./workbench.js";

const MARK_READ_DELAY_MS = 400;
const CONVERSATION_PATH = /\/inbox\/([0-9a-f-]{36})\/?$/i;
const DETAILS_HASH = "#details";

const boot = JSON.parse(document.getElementById("inbox-boot").textContent);
const root = document.querySelector("[data-testid=inbox]");
const threadRoot = root.querySelector("[data-testid=thread]");
const emptyNode = root.querySelector("[data-testid=thread-empty]");
const noticeNode = root.querySelector("[data-testid=thread-notice]");
const detailsPane = root.querySelector("[data-testid=details-pane]");
const detailsToggle = root.querySelector("[data-action=toggle-details]");

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
// A file for the reply: attach, drop on the conversation, paste (attachments.js).
const composerFiles = new ComposerFiles(root.querySelector("[data-testid=composer]"), threadRoot);
const composer = new Composer(root.querySelector("[data-testid=composer]"), {
  onSend: send,
  onTyping: (kind) => openId && socket.typing(kind, openId),
  files: composerFiles,
});
// The messaging window and the approved templates (window.js); the contact's channels.
const replyWindow = new ReplyWindow(threadRoot, { composer, files: composerFiles, onSent: showSent });
const identities = new Identities(detailsPane.querySelector("[data-testid=contact-identities]"));
const socket = new InboxSocket({
  lastEventId: boot.last_event_id,
  pollSeconds: boot.poll_seconds,
  onEvent: apply,
  onState: showConnection,
  onRightsChanged: rightsChanged,
});
// Notes, saved replies, history lines, snooze, bulk changes, counts, shortcuts (workbench.js).
const workbench = new Workbench({
  root, boot, thread, details, composer, conversations, remember, notice: showNotice,
  openId: () => openId,
  open: (conversationId) => openConversation(conversationId, { push: true }),
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
    replyWindow.show(conversation);
    identities.show(conversation);
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
  workbench.apply(event);
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
      if (data.contact_changed && data.conversation?.id === openId) {
        // Merged or unmerged: its contact's panel shows the contact as it is now.
        identities.forget();
        workbench.contact.forget();
      }
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
  if (push) {
    // fromList: the on-screen back button can then be the browser's back, so both agree.
    window.history.pushState({ conversationId, fromList: true }, "", `${boot.inbox_url}${conversationId}/${window.location.search}`);
    showDetails(false);
  }
  if (openId === conversationId) return;
  openId = conversationId;
  root.classList.add("has-open");
  emptyNode.hidden = true;
  threadRoot.hidden = false;
  showNotice("");
  composer.reset();
  list.setActive(conversationId);
  socket.join(conversationId);
  workbench.opened(conversationId);
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
  showDetails(false);
  root.classList.remove("has-open");
  list.setActive(null);
  thread.close();
  workbench.opened(null);
  threadRoot.hidden = true;
  detailsPane.hidden = true;
  emptyNode.hidden = false;
}

async function send(content, file = null) {
  const conversationId = openId;
  let body = { content };
  if (file) {
    body = new FormData(); // the text is the file's caption
    body.append("content", content);
    body.append("file", file, file.name || "image.png");
  }
  const message = await api(`/api/conversations/${conversationId}/messages`, { method: "POST", body });
  if (conversationId === openId) showSent(message);
}

function showSent(message) {
  if (message.conversation_id !== openId) return;
  thread.add(message);
  thread.scrollToBottom();
}

// The address says what is open: /inbox/ the list, /inbox/<id>/ a conversation, and #details
// its details drawer (on screens where the details cover the thread), so the browser's back
// button (a phone's back gesture) closes what was opened last.
function followLocation() {
  const match = window.location.pathname.match(CONVERSATION_PATH);
  if (!match) {
    closeConversation();
    return;
  }
  openConversation(match[1].toLowerCase());
  showDetails(window.location.hash === DETAILS_HASH);
}

function showDetails(open) {
  root.classList.toggle("details-open", open);
  detailsToggle.setAttribute("aria-expanded", String(open));
}

function openDetails() {
  if (root.classList.contains("details-open")) return;
  window.history.pushState({ ...window.history.state, details: true }, "", `${window.location.pathname}${window.location.search}${DETAILS_HASH}`);
  showDetails(true);
  detailsPane.querySelector("[data-action=close-details]").focus();
}

function closeDetails() {
  if (!root.classList.contains("details-open")) return;
  if (window.history.state?.details) {
    window.history.back(); // popstate closes it, and the address loses #details
  } else {
    window.history.replaceState(window.history.state, "", `${window.location.pathname}${window.location.search}`);
    showDetails(false);
  }
  detailsToggle.focus();
}

// Back to the list: the browser's own back when the list is where the agent came from, else
// a step to the list (a conversation opened from a link or a notification).
function backToList(event) {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  if (window.history.state?.fromList) {
    window.history.back();
    return;
  }
  window.history.pushState({}, "", `${boot.inbox_url}${window.location.search}`);
  closeConversation();
}

// Phones: the on-screen keyboard shrinks what is visible; the inbox follows it, so the composer
// stays above the keyboard (where the browser does not resize the page itself, as iOS Safari).
// Times the zoom: pinching in also shrinks the visible area, and must not shrink the inbox.
function fitToVisibleViewport() {
  const viewport = window.visualViewport;
  if (!viewport) return;
  const fit = () => document.documentElement.style.setProperty("--visible-height", `${Math.round(viewport.height * viewport.scale)}px`);
  viewport.addEventListener("resize", fit);
  fit();
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
  detailsToggle.addEventListener("click", () =>
    (root.classList.contains("details-open") ? closeDetails() : openDetails()));
  detailsPane.querySelector("[data-action=close-details]").addEventListener("click", closeDetails);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && root.classList.contains("details-open")) closeDetails();
  });
  root.querySelector("[data-action=back]").addEventListener("click", backToList);
  fitToVisibleViewport();
  window.addEventListener("popstate", followLocation);
  document.addEventListener("visibilitychange", () => {
    if (openId && (conversations.get(openId)?.unread_count || 0) > 0) markReadSoon();
  });
  socket.connect();
  if (boot.conversation) {
    remember(boot.conversation);
    openConversation(boot.conversation.id);
    showDetails(window.location.hash === DETAILS_HASH);
  }
  // A debugging handle (also used by the browser tests to drop the socket).
  window.__flameInbox = { socket, list, thread, conversations, get openId() { return openId; } };
}

start();
