// The history between the messages: who assigned, resolved, snoozed, re-prioritised or tagged
// the conversation, an assistant's hand-off, a survey sent. Read from the event log
// (/api/conversations/:id/activity) when a thread opens, then live; worded here, in the page's
// language, from the facts each line carries.
import { api } from "../api.js";
import { el } from "./dom.js";
import { clockTime, fullTime, priorityLabel, statusLabel } from "./format.js";

const say = (text, values) => interpolate(text, values, true);

function assigned(line, by) {
  const agent = line.agent?.name || "";
  if (line.automatic) return say(gettext("Assigned automatically to %(agent)s"), { agent });
  if (!by) return say(gettext("Assigned to %(agent)s"), { agent });
  if (line.by.id === line.agent?.id) return say(gettext("%(by)s took the conversation"), { by });
  return say(gettext("%(by)s assigned the conversation to %(agent)s"), { by, agent });
}

function tags(line, by) {
  const parts = [];
  const who = by || (line.ai ? gettext("The AI") : "");
  if (line.added?.length) {
    parts.push(who ? say(gettext("%(by)s added the tags %(tags)s"), { by: who, tags: line.added.join(", ") })
      : say(gettext("Tags added: %(tags)s"), { tags: line.added.join(", ") }));
  }
  if (line.removed?.length) {
    parts.push(who ? say(gettext("%(by)s removed the tags %(tags)s"), { by: who, tags: line.removed.join(", ") })
      : say(gettext("Tags removed: %(tags)s"), { tags: line.removed.join(", ") }));
  }
  return parts.join(" · ");
}

function snoozed(line, by) {
  if (line.until) {
    const until = fullTime(line.until);
    return by ? say(gettext("%(by)s snoozed the conversation until %(until)s"), { by, until })
      : say(gettext("Snoozed until %(until)s"), { until });
  }
  return by ? say(gettext("%(by)s snoozed the conversation until the customer writes"), { by })
    : gettext("Snoozed until the customer writes");
}

const WORDING = {
  assigned,
  tags,
  snoozed,
  unassigned: (line, by) => (by ? say(gettext("%(by)s unassigned %(agent)s"), { by, agent: line.agent?.name || "" })
    : say(gettext("%(agent)s was unassigned"), { agent: line.agent?.name || "" })),
  resolved: (line, by) => (by ? say(gettext("%(by)s resolved the conversation"), { by }) : gettext("The conversation was resolved")),
  reopened: (line, by) => (by ? say(gettext("%(by)s reopened the conversation"), { by }) : gettext("The conversation was reopened")),
  status: (line, by) => (by ? say(gettext("%(by)s set the status to %(status)s"), { by, status: statusLabel(line.status) })
    : say(gettext("The status changed to %(status)s"), { status: statusLabel(line.status) })),
  priority: (line, by) => {
    const priority = priorityLabel(line.priority);
    if (by) return say(gettext("%(by)s set the priority to %(priority)s"), { by, priority });
    return line.ai ? say(gettext("The AI set the priority to %(priority)s"), { priority })
      : say(gettext("The priority changed to %(priority)s"), { priority });
  },
  unsnoozed: (line, by) => (by ? say(gettext("%(by)s brought the conversation back"), { by }) : gettext("The snooze ended")),
  handoff: (line) => say(gettext("%(assistant)s handed the conversation to the team"), { assistant: line.assistant?.name || gettext("The assistant") }),
  survey_sent: () => gettext("A satisfaction survey was sent"),
};

export function describe(line) {
  const wording = WORDING[line.kind];
  return wording ? wording(line, line.by?.name || "") : "";
}

export class Activity {
  constructor({ thread }) {
    this.thread = thread;
    this.conversationId = null;
    this.seen = new Set();
  }

  async opened(conversationId) {
    this.conversationId = conversationId;
    this.seen.clear();
    if (!conversationId) return;
    let lines;
    try {
      lines = await api(`/api/conversations/${conversationId}/activity`);
    } catch (error) {
      console.warn("inbox: could not load the history", error);
      return;
    }
    if (conversationId !== this.conversationId) return;
    for (const line of lines) this.add(line.id, line.created_at, line.activity);
    this.thread.refreshDays();
  }

  apply(event) {
    const data = event.data || {};
    if (event.type !== "conversation:activity" || data.conversation_id !== this.conversationId) return;
    const stick = this.thread.nearBottom();
    this.add(event.id, data.at, data.activity);
    this.thread.refreshDays();
    if (stick) this.thread.scrollToBottom();
  }

  add(id, at, line) {
    const text = describe(line || {});
    if (!text || this.seen.has(id)) return;
    this.seen.add(id);
    const node = el("li", {
      class: "activity-line",
      testid: "activity",
      role: "note",
      dataset: { kind: line.kind, createdAt: at, id: `activity-${id}` },
    }, el("span", { class: "activity-text", text }), el("time", { datetime: at, title: fullTime(at), text: clockTime(at) }));
    this.thread.insert(node, { created_at: at, id: `activity-${id}` });
  }
}
