// Browser notifications need the browser's permission, asked for from a click.
const root = document.querySelector("[data-testid=browser-permission]");
const state = root?.querySelector("[data-field=permission-state]");
const button = root?.querySelector("[data-action=ask-permission]");

function show() {
  if (!("Notification" in window)) {
    state.textContent = gettext("This browser cannot show notifications.");
    button.hidden = true;
    return;
  }
  const labels = {
    granted: gettext("Allowed in this browser."),
    denied: gettext("Blocked in this browser: allow them in its site settings."),
    default: gettext("Not allowed yet in this browser."),
  };
  state.textContent = labels[Notification.permission] || "";
  button.hidden = Notification.permission !== "default";
}

if (root) {
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    show();
  });
  show();
}
