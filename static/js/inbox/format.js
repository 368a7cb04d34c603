// Labels and dates. Every string goes through the global gettext() loaded from /jsi18n/.

const lang = () => document.documentElement.lang || undefined;

const DAY = 24 * 3600 * 1000;

export function shortTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const now = new Date();
  if (date.toDateString() === now.toDateString()) {
    return new Intl.DateTimeFormat(lang(), { hour: "numeric", minute: "2-digit" }).format(date);
  }
  if (now - date < 6 * DAY) {
    return new Intl.DateTimeFormat(lang(), { weekday: "short" }).format(date);
  }
  const options = { day: "numeric", month: "short" };
  if (date.getFullYear() !== now.getFullYear()) options.year = "numeric";
  return new Intl.DateTimeFormat(lang(), options).format(date);
}

export function clockTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(lang(), { hour: "numeric", minute: "2-digit" }).format(new Date(iso));
}

export function fullTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(lang(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

export function dayLabel(iso) {
  return new Intl.DateTimeFormat(lang(), { dateStyle: "full" }).format(new Date(iso));
}

// Fill every <time data-format> the server rendered (it cannot know the reader's clock).
export function formatTimes(root) {
  for (const node of root.querySelectorAll("time[datetime]")) {
    const iso = node.getAttribute("datetime");
    if (!iso) continue;
    node.textContent = shortTime(iso);
    node.title = fullTime(iso);
  }
}

export function platformLabel(platform) {
  const labels = {
    whatsapp: "WhatsApp",
    facebook: "Messenger",
    instagram: "Instagram",
    telegram: "Telegram",
    sandbox: gettext("Sandbox"),
  };
  return labels[platform] || platform;
}

export function statusLabel(status) {
  const labels = {
    active: gettext("Active"),
    pending: gettext("Pending"),
    resolved: gettext("Resolved"),
    archived: gettext("Archived"),
  };
  return labels[status] || status;
}

export function priorityLabel(priority) {
  const labels = {
    low: gettext("Low"),
    medium: gettext("Medium"),
    high: gettext("High"),
    urgent: gettext("Urgent"),
  };
  return labels[priority] || priority;
}

export function deliveryLabel(status) {
  const labels = {
    queued: gettext("Sending"),
    sent: gettext("Sent"),
    delivered: gettext("Delivered"),
    read: gettext("Read"),
    failed: gettext("Failed"),
  };
  return labels[status] || status;
}

export function contactName(conversation) {
  return (
    conversation.contact_name ||
    conversation.contact_phone ||
    conversation.contact_email ||
    gettext("Unknown customer")
  );
}

export function initial(name) {
  return (Array.from((name || "").trim())[0] || "?").toUpperCase();
}

export function unreadLabel(count) {
  return interpolate(
    ngettext("%(count)s unread message", "%(count)s unread messages", count),
    { count },
    true,
  );
}
