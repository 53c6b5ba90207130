// Forms that speak JSON to the API, declared in HTML; no page needs a script of its own.
//
//   <form data-api="/api/v1/..." data-method="POST" data-success="...">
//     data-success: "redirect:/path" | "reload" | "message" (default) | "show:#id"
//       (with "redirect:", a response's `next_step` path, such as the code step of a
//       two-factor sign-in, goes first)
//       "message" puts data-success-message, or the response's `status`, in the form's
//       [role=status]; "show:#id" fills [data-result="field"] inside #id from the response
//       and reveals it (for things shown once, such as a new API key), hiding whatever
//       its data-hides selector names.
//     data-confirm="Question?"       asked first (also on the submit button that was used)
//     <button name="action" value="hide">  the used button's name and value join the fields
//     data-error-fields="code:field"  which field an error code is about (comma-separated)
//     data-reset                      clear the form after a "message" success
//     data-flash                      with "redirect:" or "reload", the response's `status`
//                                     is shown on the next page (see app.js)
//   [data-error-code="code"]          inside a form: shown only after that error
//   [data-age-from="field"][data-age-min][data-age-max]: shown, and its controls enabled,
//       while the age given by the named date field is in the range
//   button[data-toggle-password="input-id"], button[data-copy="element-id"]
//
// Fields become a JSON object: empty optional fields are left out ([data-empty-null]: sent as
// null, to clear a setting; [data-keep-empty]: sent as ""), checkboxes are booleans, number
// inputs numbers, [data-json-array] fields comma-separated lists; a dotted name ("a.b") nests.
// Errors use the API's shape {"error": {"code", "message", "details": [{"field"}]}}.

const CSRF_COOKIES = ["__Host-csrf_token", "csrf_token"];
const NETWORK_FAILURE = "Could not reach the server. Check your connection and try again.";
const SKIPPED_TYPES = new Set(["submit", "button", "reset", "file", "image"]);

function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

// The cookie is the freshest copy: signing in or changing the password rotates it.
export function csrfToken() {
  for (const name of CSRF_COOKIES) {
    const value = readCookie(name);
    if (value) return value;
  }
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

export function formFields(form) {
  const data = {};
  for (const field of form.elements) {
    if (!field.name || field.name === "csrf_token" || SKIPPED_TYPES.has(field.type)) continue;
    if (field.matches(":disabled")) continue;
    if (field.type === "checkbox") {
      data[field.name] = field.checked;
    } else if (field.type === "radio") {
      if (field.checked) data[field.name] = field.value;
    } else if (field.dataset.jsonArray !== undefined) {
      data[field.name] = field.value.split(",").map((item) => item.trim()).filter(Boolean);
    } else if (field.value === "" && field.dataset.emptyNull !== undefined) {
      put(data, field.name, null);
    } else if (field.value !== "" || field.required || field.dataset.keepEmpty !== undefined) {
      const numeric = field.type === "number" || field.type === "range";
      put(data, field.name, numeric && field.value !== "" ? Number(field.value) : field.value);
    }
  }
  return data;
}

// "about_me.name" becomes data.about_me.name.
function put(data, name, value) {
  const [head, ...rest] = name.split(".");
  if (rest.length === 0) {
    data[head] = value;
    return;
  }
  data[head] = data[head] ?? {};
  put(data[head], rest.join("."), value);
}

let regionCount = 0;

function region(form, role) {
  let element = form.querySelector(`[role="${role}"]`);
  if (!element) {
    element = document.createElement("p");
    element.setAttribute("role", role);
    element.className = role === "alert" ? "notice error" : "notice success";
    element.hidden = true;
    form.prepend(element);
  }
  if (!element.id) element.id = `form-${role}-${++regionCount}`;
  return element;
}

function fieldByName(form, name) {
  const found = form.elements.namedItem(name);
  if (!found) return null;
  return found instanceof RadioNodeList ? found[0] : found;
}

function clearMessages(form) {
  for (const role of ["alert", "status"]) {
    const element = form.querySelector(`[role="${role}"]`);
    if (element) {
      element.hidden = true;
      element.textContent = "";
    }
  }
  for (const field of form.querySelectorAll("[aria-invalid]")) unmarkField(field, form);
  for (const block of form.querySelectorAll("[data-error-code]")) {
    if (!block.dataset.ageFrom) block.hidden = true;
  }
}

function markField(field, alert) {
  field.setAttribute("aria-invalid", "true");
  const described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  if (!described.includes(alert.id)) described.push(alert.id);
  field.setAttribute("aria-describedby", described.join(" "));
}

function unmarkField(field, form) {
  field.removeAttribute("aria-invalid");
  const alert = form.querySelector('[role="alert"]');
  const described = (field.getAttribute("aria-describedby") || "").split(" ")
    .filter((id) => id && id !== alert?.id);
  if (described.length) field.setAttribute("aria-describedby", described.join(" "));
  else field.removeAttribute("aria-describedby");
}

function codeFields(form, code) {
  const names = [];
  for (const pair of (form.dataset.errorFields || "").split(",")) {
    const [errorCode, field] = pair.split(":").map((part) => part.trim());
    if (errorCode === code && field) names.push(field);
  }
  return names;
}

function showError(form, error) {
  const alert = region(form, "alert");
  alert.textContent = error.message;
  alert.hidden = false;
  for (const block of form.querySelectorAll("[data-error-code]")) {
    if (block.dataset.errorCode === error.code) block.hidden = false;
  }
  const names = [
    ...(Array.isArray(error.details) ? error.details.map((item) => item?.field) : []),
    ...codeFields(form, error.code),
  ].filter(Boolean);
  const fields = [...new Set(names)].map((name) => fieldByName(form, name)).filter(Boolean);
  for (const field of fields) markField(field, alert);
  if (fields.length) {
    fields[0].focus();
  } else {
    alert.tabIndex = -1;
    alert.focus();
  }
}

async function readError(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (body?.error?.message) return body.error;
  return {
    code: "http_error",
    message: `Something went wrong (HTTP ${response.status}). Please try again in a moment.`,
  };
}

function localPath(target) {
  return target.startsWith("/") && !target.startsWith("//") && !target.includes("\\");
}

function showResult(form, selector, body) {
  const target = document.querySelector(selector);
  if (!target) return;
  for (const slot of target.querySelectorAll("[data-result]")) {
    const value = body?.[slot.dataset.result] ?? "";
    if ("value" in slot && slot.tagName !== "BUTTON") slot.value = value;
    else slot.textContent = value;
  }
  target.hidden = false;
  if (target.dataset.hides) {
    for (const replaced of document.querySelectorAll(target.dataset.hides)) replaced.hidden = true;
  }
  form.reset();
  const focusable = target.querySelector("input[data-result], textarea[data-result]") || target;
  if (focusable === target) target.tabIndex = -1;
  focusable.focus();
  if (typeof focusable.select === "function") focusable.select();
}

// Returns true when the page is about to change, so the form stays disabled.
export const FLASH_KEY = "flash";

function keepFlash(form, body) {
  if (form.dataset.flash === undefined || typeof body?.status !== "string") return;
  try {
    window.sessionStorage.setItem(FLASH_KEY, body.status);
  } catch {
    // storage refused (private mode): the next page simply shows no message
  }
}

function succeed(form, body) {
  const mode = form.dataset.success || "message";
  if (mode.startsWith("redirect:") || mode === "reload") keepFlash(form, body);
  if (mode.startsWith("redirect:")) {
    const target = body?.next_step || mode.slice("redirect:".length);
    window.location.assign(localPath(target) ? target : "/");
    return true;
  }
  if (mode === "reload") {
    window.location.reload();
    return true;
  }
  if (mode.startsWith("show:")) {
    showResult(form, mode.slice("show:".length), body);
    return false;
  }
  const status = region(form, "status");
  status.textContent = form.dataset.successMessage || body?.status || "Saved.";
  status.hidden = false;
  if (form.dataset.reset !== undefined) form.reset();
  return false;
}

function setBusy(form, busy) {
  form.setAttribute("aria-busy", String(busy));
  for (const button of form.querySelectorAll("button[type=submit], button:not([type])")) {
    button.disabled = busy;
    if (button.dataset.busyLabel) {
      if (busy) {
        button.dataset.idleLabel = button.textContent;
        button.textContent = button.dataset.busyLabel;
      } else if (button.dataset.idleLabel) {
        button.textContent = button.dataset.idleLabel;
      }
    }
  }
}

async function submit(form, submitter) {
  const question = submitter?.dataset.confirm || form.dataset.confirm;
  if (question && !window.confirm(question)) return;
  clearMessages(form);
  const method = (form.dataset.method || "POST").toUpperCase();
  const headers = { Accept: "application/json", "X-CSRF-Token": csrfToken() };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") {
    headers["Content-Type"] = "application/json";
    const fields = formFields(form);
    if (submitter?.name) fields[submitter.name] = submitter.value;  // which button was used
    init.body = JSON.stringify(fields);
  }
  setBusy(form, true);
  let leaving = false;
  try {
    let response;
    try {
      response = await fetch(form.dataset.api, init);
    } catch {
      showError(form, { code: "network_error", message: NETWORK_FAILURE });
      return;
    }
    if (!response.ok) {
      const error = await readError(response);
      if (error.code === "not_authenticated" && !form.dataset.api.startsWith("/api/v1/auth/")) {
        const here = window.location.pathname + window.location.search;
        window.location.assign(`/login?next=${encodeURIComponent(here)}`);
        leaving = true;
        return;
      }
      showError(form, error);
      form.dispatchEvent(new CustomEvent("forms:error", { bubbles: true, detail: error }));
      return;
    }
    const body = response.status === 204 ? null : await response.json().catch(() => null);
    form.dispatchEvent(new CustomEvent("forms:success", { bubbles: true, detail: body }));
    leaving = succeed(form, body);
  } finally {
    if (!leaving) setBusy(form, false);
  }
}

function setUpForms() {
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.api) return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    submit(form, event.submitter);
  });
  document.addEventListener("input", (event) => {
    const field = event.target;
    if (field.form?.dataset.api && field.getAttribute?.("aria-invalid")) {
      unmarkField(field, field.form);
    }
  });
}

function setUpPasswordToggles() {
  for (const button of document.querySelectorAll("button[data-toggle-password]")) {
    const input = document.getElementById(button.dataset.togglePassword);
    if (!input) continue;
    button.hidden = false;
    button.setAttribute("aria-controls", input.id);
    button.addEventListener("click", () => {
      const show = input.type === "password";
      input.type = show ? "text" : "password";
      button.textContent = show ? "Hide" : "Show";
      button.setAttribute("aria-label", show ? "Hide password" : "Show password");
      input.focus();
    });
  }
}

function setUpCopyButtons() {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const text = "value" in source ? source.value : source.textContent;
      let copied = false;
      try {
        await navigator.clipboard.writeText(text);
        copied = true;
      } catch {
        if (typeof source.select === "function") {
          source.select();
          copied = document.execCommand("copy");
        }
      }
      const label = button.dataset.idleLabel || button.textContent;
      button.dataset.idleLabel = label;
      button.textContent = copied ? "Copied" : "Select and copy it";
      window.setTimeout(() => { button.textContent = label; }, 2000);
    });
  }
}

function ageOn(birth, today) {
  let years = today.getFullYear() - birth.getFullYear();
  const month = today.getMonth() - birth.getMonth();
  if (month < 0 || (month === 0 && today.getDate() < birth.getDate())) years -= 1;
  return years;
}

function parseDate(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
  if (!match) return null;
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return Number.isNaN(date.getTime()) ? null : date;
}

function setUpAgeSections() {
  const sections = document.querySelectorAll("[data-age-from]");
  for (const section of sections) {
    const form = section.closest("form");
    const source = form && fieldByName(form, section.dataset.ageFrom);
    if (!source) continue;
    const min = Number(section.dataset.ageMin ?? 0);
    const max = Number(section.dataset.ageMax ?? Infinity);
    const update = () => {
      const birth = parseDate(source.value);
      const years = birth ? ageOn(birth, new Date()) : null;
      const show = years !== null && years >= min && years <= max;
      section.hidden = !show;
      if (section instanceof HTMLFieldSetElement) section.disabled = !show;
    };
    source.addEventListener("input", update);
    source.addEventListener("change", update);
    update();
  }
}

setUpForms();
setUpPasswordToggles();
setUpCopyButtons();
setUpAgeSections();
