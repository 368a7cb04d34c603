// The main navigation on narrow screens: the menu button shows and hides every destination.
// Escape or a tap outside closes it, as people expect of a menu; outside is the scrim over the
// page (the top bar's ::before, so the tap lands on the bar itself and follows no link).
const topbar = document.querySelector("[data-testid=topbar]");
const toggle = topbar?.querySelector("[data-action=toggle-nav]");

function setOpen(open) {
  topbar.classList.toggle("is-open", open);
  toggle.setAttribute("aria-expanded", String(open));
}

const isOpen = () => topbar.classList.contains("is-open");

if (topbar && toggle) {
  toggle.addEventListener("click", () => setOpen(!isOpen()));
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !isOpen()) return;
    setOpen(false);
    toggle.focus();
  });
  document.addEventListener("click", (event) => {
    if (isOpen() && (event.target === topbar || !topbar.contains(event.target))) setOpen(false);
  });
}
