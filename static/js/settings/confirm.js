// Forms and buttons with data-confirm ask before they submit; copy buttons copy a value.
// Loaded as a module on every settings page (no inline handlers: CSP script-src 'self').

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const scratch = document.createElement("textarea");
  scratch.value = text;
  scratch.setAttribute("readonly", "");
  scratch.className = "offscreen";
  document.body.append(scratch);
  scratch.select();
  document.execCommand("copy");
  scratch.remove();
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const label = button.textContent;
  try {
    await copyText(source.value ?? source.textContent);
    button.textContent = gettext("Copied");
  } catch {
    source.select?.();
    button.textContent = gettext("Press Ctrl+C to copy");
  }
  window.setTimeout(() => {
    button.textContent = label;
  }, 1600);
});
