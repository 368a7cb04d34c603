// Files in the thread — images inline (larger on click), videos showing their first frame,
// audio and voice notes playable, documents to download, downloads still running or failed
// (with a retry) — and the composer's file: the attach button, a file dropped on the
// conversation or an image pasted into the reply box.
import { api } from "../api.js";
import { el, safeUrl } from "./dom.js";

export function sizeLabel(bytes) {
  if (bytes === null || bytes === undefined) return "";
  if (bytes < 1024) return interpolate(gettext("%(count)s bytes"), { count: bytes }, true);
  const units = ["KB", "MB", "GB"];
  let value = bytes;
  let unit = "";
  for (const next of units) {
    value /= 1024;
    unit = next;
    if (value < 1024) break;
  }
  return `${new Intl.NumberFormat(document.documentElement.lang || undefined, { maximumFractionDigits: 1 }).format(value)} ${unit}`;
}

// --- the thread ----------------------------------------------------------------------------------

let lightbox = null;

function showLarger(url, alt) {
  if (!lightbox) {
    lightbox = el("dialog", { class: "lightbox", testid: "lightbox" });
    lightbox.addEventListener("click", () => lightbox.close());
    document.body.append(lightbox);
  }
  lightbox.replaceChildren(el("img", { src: url, alt, testid: "lightbox-image" }),
    el("p", { class: "lightbox-hint", text: gettext("Click anywhere to close") }));
  lightbox.showModal();
}

async function retryDownload(button, attachment) {
  button.disabled = true;
  try {
    await api(`/api/attachments/${attachment.id}/retry`, { method: "POST" });
    button.textContent = gettext("Downloading the file…");
  } catch (error) {
    button.disabled = false;
    button.title = error.readable || error.message;
  }
}

function pending() {
  return el("div", { class: "msg-file msg-file-pending", testid: "attachment-pending", text: gettext("Downloading the file…") });
}

function failed(attachment) {
  const reason = attachment.error_message || attachment.error_code || gettext("unknown error");
  const button = el("button", { type: "button", class: "btn btn-small", testid: "attachment-retry", text: gettext("Try again") });
  button.addEventListener("click", () => retryDownload(button, attachment));
  return el("div", { class: "msg-file msg-file-failed", testid: "attachment-failed", role: "alert" },
    el("span", { text: interpolate(gettext("The file could not be downloaded: %(reason)s"), { reason }, true) }), button);
}

function image(attachment, url) {
  const alt = attachment.caption || attachment.file_name || gettext("Image sent in the conversation");
  const link = el("a", { class: "msg-media", href: url, target: "_blank", rel: "noopener", testid: "attachment-image-link" },
    el("img", { src: url, alt, loading: "lazy", testid: "attachment-image" }));
  link.addEventListener("click", (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    showLarger(url, alt);
  });
  return link;
}

function documentLink(attachment, url) {
  const name = attachment.file_name || gettext("File");
  return el("a", { class: "msg-file", href: `${url}?download=1`, download: name, testid: "attachment-document" },
    el("span", { class: "msg-file-icon", "aria-hidden": "true", text: "📄" }),
    el("span", { class: "msg-file-name", text: name }),
    el("span", { class: "msg-file-size muted", text: sizeLabel(attachment.size) }));
}

function ready(attachment) {
  const url = safeUrl(attachment.url || "");
  if (!url) return null;
  if (attachment.kind === "image") return image(attachment, url);
  if (attachment.kind === "video") {
    // preload=metadata shows the video's first frame as its poster.
    return el("video", { class: "msg-media", src: url, controls: true, preload: "metadata", testid: "attachment-video" });
  }
  if (attachment.kind === "audio") {
    return el("audio", { class: "msg-media msg-audio", src: url, controls: true, preload: "metadata", testid: "attachment-audio" });
  }
  return documentLink(attachment, url);
}

function renderAttachment(attachment) {
  if (attachment.status === "pending") return pending();
  if (attachment.status === "failed") return failed(attachment);
  if (attachment.status === "ready") return ready(attachment);
  return null; // purged: the message says it was deleted
}

// The message's files, or null when it has none (the thread then shows its media_url).
export function renderAttachments(message) {
  const files = message.attachments || [];
  if (!files.length) return null;
  return el("div", { class: "msg-files", testid: "message-attachments" }, files.map(renderAttachment));
}

// What else the thread says about a message: sent as a template, opened from a link, handled
// by another app.
export function messageNotes(message) {
  const metadata = message.metadata || {};
  const notes = [];
  if (message.type === "template" && metadata.template) {
    notes.push(el("span", { class: "msg-aside", testid: "message-template", text: interpolate(gettext("Template: %(name)s"), { name: metadata.template.name }, true) }));
  }
  if (metadata.start_payload) {
    notes.push(el("span", { class: "msg-aside", testid: "message-start-payload", text: interpolate(gettext("Opened the chat from a link: %(code)s"), { code: metadata.start_payload }, true) }));
  }
  if (metadata.standby) {
    notes.push(el("span", { class: "msg-aside", testid: "message-standby", text: gettext("Another app handles this conversation: assistants do not answer it.") }));
  }
  return notes;
}

// --- the composer's file -------------------------------------------------------------------------

export class ComposerFiles {
  constructor(form, dropZone) {
    this.form = form;
    this.input = form.querySelector("[data-testid=composer-file-input]");
    this.chip = form.querySelector("[data-testid=composer-file]");
    this.attachButton = form.querySelector("[data-action=attach]");
    this.file = null;
    this.attachButton.addEventListener("click", () => this.input.click());
    this.input.addEventListener("change", () => this.set(this.input.files[0] || null));
    form.querySelector("[data-action=remove-file]").addEventListener("click", () => this.clear());
    form.querySelector("textarea").addEventListener("paste", (event) => this.pasted(event));
    this.watchDrops(dropZone);
  }

  watchDrops(zone) {
    const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
    zone.addEventListener("dragover", (event) => {
      if (!carriesFiles(event) || this.attachButton.disabled) return;
      event.preventDefault();
      zone.classList.add("is-dropping");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("is-dropping"));
    zone.addEventListener("drop", (event) => {
      zone.classList.remove("is-dropping");
      if (!carriesFiles(event) || this.attachButton.disabled) return;
      event.preventDefault();
      this.set(event.dataTransfer.files[0] || null);
    });
  }

  pasted(event) {
    const file = [...(event.clipboardData?.files || [])][0];
    if (!file || this.attachButton.disabled) return; // plain text pastes as usual
    event.preventDefault();
    this.set(file);
  }

  set(file) {
    this.file = file;
    this.chip.hidden = !file;
    this.chip.querySelector("[data-testid=composer-file-name]").textContent = file ? file.name || gettext("Pasted image") : "";
    this.chip.querySelector("[data-testid=composer-file-size]").textContent = file ? sizeLabel(file.size) : "";
  }

  clear() {
    this.input.value = "";
    this.set(null);
  }

  setDisabled(disabled) {
    this.attachButton.disabled = disabled;
    if (disabled) this.clear();
  }
}
