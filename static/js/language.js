// The language switch returns to where the person is now: pages such as the inbox change
// their address as they go (an opened conversation), after the form was rendered.
for (const form of document.querySelectorAll("form.language-switch")) {
  form.addEventListener("submit", () => {
    const next = form.querySelector('input[name="next"]');
    if (next) next.value = window.location.pathname + window.location.search;
  });
}
