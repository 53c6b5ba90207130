// Persona pages: the profile form (saved as JSON with the sliders nested), its live
// instructions preview, the traits tag input, and opening a new persona or chat after a
// forms.js action succeeds. Without this script the traits field stays a comma-separated text box.

import { csrfToken } from "./forms.js";

const PREVIEW_DELAY_MS = 300;
const NETWORK_FAILURE = "Could not reach the server. Check your connection and try again.";
const FIELD_IDS = {
  name: "persona-name", tagline: "persona-tagline", traits: "persona-traits",
  tone: "persona-tone", greeting: "persona-greeting", example_dialogue: "persona-dialogue",
  system_prompt: "persona-prompt", system_prompt_public: "persona-prompt-public",
};

function splitTags(text) {
  return text.split(",").map((tag) => tag.trim().replace(/\s+/g, " ")).filter(Boolean);
}

// The traits field: chips with remove buttons before a text box. Enter or a comma adds the
// typed tag; Backspace in an empty box removes the last one.
class TagInput {
  constructor(input, onChange) {
    this.input = input;
    this.onChange = onChange;
    this.maxTags = Number(input.dataset.maxTags || 12);
    this.tags = [];
    this.list = document.createElement("ul");
    this.list.className = "tag-list";
    this.list.setAttribute("aria-label", "Traits added");
    this.announcer = document.createElement("p");
    this.announcer.className = "visually-hidden";
    this.announcer.setAttribute("aria-live", "polite");
    input.before(this.list);
    input.after(this.announcer);
    for (const tag of splitTags(input.value)) this.add(tag, { quiet: true });
    input.value = "";
    input.placeholder = "Type a trait, then Enter";
    input.addEventListener("keydown", (event) => this.onKey(event));
    input.addEventListener("input", () => {
      if (input.value.includes(",")) this.commit();
    });
    input.addEventListener("blur", () => this.commit());
  }

  values() {
    return [...this.tags, ...splitTags(this.input.value)];
  }

  onKey(event) {
    if (event.key === "Enter" && this.input.value.trim()) {
      event.preventDefault();
      this.commit();
    } else if (event.key === "Backspace" && !this.input.value && this.tags.length) {
      this.remove(this.tags.length - 1);
    }
  }

  commit() {
    const typed = splitTags(this.input.value);
    if (!typed.length) return;
    this.input.value = "";
    for (const tag of typed) this.add(tag);
    this.onChange();
  }

  add(tag, { quiet = false } = {}) {
    if (this.tags.some((known) => known.toLowerCase() === tag.toLowerCase())) return;
    this.tags.push(tag);
    const item = document.createElement("li");
    item.className = "trait";
    const label = document.createElement("span");
    label.textContent = tag;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "tag-remove";
    button.textContent = "×";
    button.setAttribute("aria-label", `Remove trait ${tag}`);
    button.addEventListener("click", () => {
      this.remove(this.tags.indexOf(tag));
      this.input.focus();
    });
    item.append(label, button);
    this.list.append(item);
    if (!quiet) this.announce(`Added ${tag}.`);
    if (this.tags.length > this.maxTags) this.announce(`At most ${this.maxTags} traits.`);
  }

  remove(index) {
    if (index < 0) return;
    const [tag] = this.tags.splice(index, 1);
    this.list.children[index].remove();
    this.announce(`Removed ${tag}.`);
    this.onChange();
  }

  announce(text) {
    this.announcer.textContent = text;
  }
}

function payload(form, tagInput) {
  const value = (name) => form.elements.namedItem(name)?.value ?? "";
  const sliders = {};
  for (const slider of form.querySelectorAll("input[data-slider]")) {
    sliders[slider.name] = Number(slider.value);
  }
  const visibility = form.querySelector("input[name=visibility]:checked")?.value || "private";
  return {
    name: value("name"), tagline: value("tagline"),
    traits: tagInput ? tagInput.values() : splitTags(value("traits")),
    tone: value("tone"), sliders, greeting: value("greeting"),
    example_dialogue: value("example_dialogue"), system_prompt: value("system_prompt"),
    system_prompt_public: Boolean(form.elements.namedItem("system_prompt_public")?.checked),
    visibility, model: value("model"),
  };
}

function messageRegion(form, role) {
  return form.querySelector(`[role="${role}"]`);
}

function clearErrors(form) {
  for (const role of ["alert", "status"]) {
    const region = messageRegion(form, role);
    region.hidden = true;
    region.textContent = "";
  }
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
}

function showError(form, error) {
  const alert = messageRegion(form, "alert");
  if (!alert.id) alert.id = "persona-form-alert";
  alert.textContent = error.message;
  alert.hidden = false;
  const names = (Array.isArray(error.details) ? error.details : [])
    .map((item) => String(item?.field || "").split(".")[0]).filter(Boolean);
  const fields = names.map((name) => (name === "sliders"
    ? form.querySelector("input[data-slider]")
    : document.getElementById(FIELD_IDS[name] || ""))).filter(Boolean);
  for (const field of fields) field.setAttribute("aria-invalid", "true");
  const target = fields[0] || alert;
  if (target === alert) alert.tabIndex = -1;
  target.focus();
}

async function readError(response) {
  const body = await response.json().catch(() => null);
  return body?.error?.message ? body.error
    : { code: "http_error", message: `Something went wrong (HTTP ${response.status}).` };
}

function sendJson(url, method, body, signal) {
  return fetch(url, {
    method, signal, credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json",
      "X-CSRF-Token": csrfToken() },
    body: JSON.stringify(body),
  });
}

function setUpPreview(form, tagInput) {
  const preview = document.getElementById("instructions-preview");
  const status = document.getElementById("preview-status");
  if (!preview || !form.dataset.preview) return () => {};
  let timer = null;
  let inFlight = null;
  const refresh = async () => {
    inFlight?.abort();
    inFlight = new AbortController();
    const { name, traits, tone, sliders } = payload(form, tagInput);
    try {
      const response = await sendJson(form.dataset.preview, "POST",
        { name, traits, tone, sliders }, inFlight.signal);
      if (!response.ok) {
        status.textContent = `Preview not updated: ${(await readError(response)).message}`;
        return;
      }
      preview.textContent = (await response.json()).instructions;
      status.textContent = "";
    } catch (error) {
      if (error.name !== "AbortError") status.textContent = NETWORK_FAILURE;
    }
  };
  return () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, PREVIEW_DELAY_MS);
  };
}

function setUpPersonaForm(form) {
  let schedule = () => {};
  const traits = form.querySelector("input[data-tag-input]");
  const tagInput = traits ? new TagInput(traits, () => schedule()) : null;
  schedule = setUpPreview(form, tagInput);
  for (const slider of form.querySelectorAll("input[data-slider]")) {
    const output = document.getElementById(`${slider.id}-value`);
    slider.addEventListener("input", () => {
      if (output) output.textContent = slider.value;
      schedule();
    });
  }
  for (const id of ["persona-name", "persona-tone"]) {
    document.getElementById(id)?.addEventListener("input", () => schedule());
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    tagInput?.commit();
    clearErrors(form);
    const button = form.querySelector("button[type=submit]");
    const label = button.textContent;
    form.setAttribute("aria-busy", "true");
    button.disabled = true;
    button.textContent = button.dataset.busyLabel || label;
    let leaving = false;
    try {
      const response = await sendJson(form.dataset.endpoint, form.dataset.method,
        payload(form, tagInput));
      if (!response.ok) {
        showError(form, await readError(response));
        return;
      }
      const body = await response.json();
      if (form.dataset.method === "POST") {
        leaving = true;
        window.location.assign(`/personas/${encodeURIComponent(body.persona.id)}`);
        return;
      }
      const status = messageRegion(form, "status");
      status.textContent = "Saved.";
      status.hidden = false;
    } catch {
      showError(form, { code: "network_error", message: NETWORK_FAILURE });
    } finally {
      if (!leaving) {
        form.setAttribute("aria-busy", "false");
        button.disabled = false;
        button.textContent = label;
      }
    }
  });
}

// After forms.js succeeds: a duplicate opens the copy.
document.addEventListener("forms:success", (event) => {
  const form = event.target;
  const body = event.detail || {};
  if (form.matches("[data-open-persona]") && body.persona?.id) {
    window.location.assign(`/personas/${encodeURIComponent(body.persona.id)}`);
  }
});

for (const form of document.querySelectorAll("form[data-persona-form]")) setUpPersonaForm(form);
