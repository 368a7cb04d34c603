// The assistant form shows the AI fields only for AI assistants (all fields without JS).
import "./confirm.js";

const form = document.querySelector("[data-assistant-form]");

function selectedType() {
  return form.querySelector("input[name=type]:checked")?.value || "";
}

function sync() {
  const type = selectedType();
  for (const block of form.querySelectorAll("[data-show-for-type]")) {
    block.hidden = Boolean(type) && block.dataset.showForType !== type;
  }
}

if (form) {
  form.addEventListener("change", (event) => {
    if (event.target.name === "type") sync();
  });
  sync();
}
