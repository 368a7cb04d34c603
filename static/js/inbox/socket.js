// The live channel: /ws/ with the session cookie, reconnects with backoff, and catches up from
// /api/events?after=<last id> so nothing published while the socket was away is lost (the
// channel layer is at-most-once; the Event table is the record).
import { api } from "../api.js";

const MAX_BACKOFF_MS = 10000;
// Close codes of /ws/ (conversations/consumers.py).
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_RIGHTS_CHANGED = 4409;
// A workspace setting closes every agent's socket at once: spread their reconnections.
const RIGHTS_RECONNECT_SPREAD_MS = 1000;
const PING_MS = 25000;
const SEEN_LIMIT = 2000;

export class InboxSocket {
  constructor({ lastEventId = 0, pollSeconds = 0, onEvent, onState, onRightsChanged }) {
    this.lastEventId = lastEventId;
    // A server whose channel layer is process-local (the embedded default) asks the page to
    // also poll the event log: events written by another process never reach this socket.
    if (pollSeconds > 0) {
      window.setInterval(() => this.connected && this.catchUp(), pollSeconds * 1000);
    }
    this.onEvent = onEvent;
    this.onState = onState || (() => {});
    this.onRightsChanged = onRightsChanged || (() => {});
    this.rightsChanged = false;
    this.seen = new Set();
    this.joined = null;
    this.socket = null;
    this.backoff = 500;
    this.catchingUp = null;
    this.connected = false;
    this.stopped = false;
  }

  connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/`);
    this.socket = socket;
    this.onState("connecting");
    socket.addEventListener("open", () => this.opened(socket));
    socket.addEventListener("message", (message) => this.received(message));
    socket.addEventListener("close", (event) => this.closed(socket, event));
  }

  opened(socket) {
    if (socket !== this.socket) return;
    this.connected = true;
    this.backoff = 500;
    if (this.joined) this.send({ type: "conversation:join", conversation_id: this.joined });
    this.ping = window.setInterval(() => this.send({ type: "ping" }), PING_MS);
    const rightsChanged = this.rightsChanged;
    this.rightsChanged = false;
    // Whatever happened since the page was rendered or the socket dropped. The watermark is
    // taken now, before this socket delivers anything: live events that race the catch-up
    // are deduplicated by id, never skipped.
    this.catchUp(this.lastEventId).finally(() => {
      // A refused socket opens and closes at once (4401): it must not read as online.
      if (socket !== this.socket || !this.connected) return;
      this.onState("online");
      if (rightsChanged) this.onRightsChanged();
    });
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.connected = false;
    window.clearInterval(this.ping);
    if (event.code === CLOSE_UNAUTHENTICATED) {
      this.onState("signed-out"); // signed out or deactivated: another try is refused alike
      return;
    }
    this.onState("offline");
    if (this.stopped) return;
    window.setTimeout(() => this.connect(), this.reconnectDelay(event.code));
  }

  reconnectDelay(code) {
    if (code === CLOSE_RIGHTS_CHANGED) {
      // Not a failure: the server asks for a socket authorised with the user's current rights.
      this.rightsChanged = true;
      return Math.random() * RIGHTS_RECONNECT_SPREAD_MS;
    }
    const delay = this.backoff * (0.75 + Math.random() / 2);
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    return delay;
  }

  // Debug and test hook: drop the connection as a network failure would. It reconnects by
  // itself, unless ``{ reconnect: false }`` holds it down until ``reconnect()``.
  close({ reconnect = true } = {}) {
    this.stopped = !reconnect;
    this.socket?.close();
  }

  reconnect() {
    this.stopped = false;
    if (!this.connected) this.connect();
  }

  send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  join(conversationId) {
    if (this.joined && this.joined !== conversationId) this.leave(this.joined);
    this.joined = conversationId;
    this.send({ type: "conversation:join", conversation_id: conversationId });
  }

  leave(conversationId) {
    this.send({ type: "conversation:leave", conversation_id: conversationId });
    if (this.joined === conversationId) this.joined = null;
  }

  typing(kind, conversationId) {
    this.send({ type: kind, conversation_id: conversationId });
  }

  received(message) {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (event.id === undefined || event.id === null) {
      // Ephemeral (typing) or protocol replies (pong, joined, error): no id to track.
      this.onEvent(event);
      return;
    }
    this.dispatch(event);
  }

  dispatch(event) {
    if (this.seen.has(event.id)) return;
    this.seen.add(event.id);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value);
    if (event.id > this.lastEventId) this.lastEventId = event.id;
    try {
      this.onEvent(event);
    } catch (error) {
      console.warn("inbox: could not apply event", event.type, error);
    }
  }

  catchUp(after = this.lastEventId) {
    if (this.catchingUp) return this.catchingUp;
    this.catchingUp = this.fetchMissed(after).finally(() => {
      this.catchingUp = null;
    });
    return this.catchingUp;
  }

  async fetchMissed(from) {
    let after = from;
    for (;;) {
      let page;
      try {
        page = await api("/api/events", { params: { after } });
      } catch (error) {
        if (error.status === 401 || error.status === 403) this.onState("signed-out");
        return;
      }
      for (const event of page.results) this.dispatch(event);
      after = Math.max(after, page.last_id);
      if (!page.has_more) return;
    }
  }
}
