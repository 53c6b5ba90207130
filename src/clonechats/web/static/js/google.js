// The forms that finish a Google sign-in: each posts its fields as JSON to the API named in
// data-google-api, then follows the `redirect` the API answers or shows its `status`.

const CSRF_COOKIES = ["__Host-csrf_token", "csrf_token"];
const NETWORK_FAILURE = "Could not reach the server. Check your connection and try again.";

function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (CSRF_COOKIES.includes(key)) return decodeURIComponent(rest.join("="));
  }
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

function fieldsOf(form) {
  const body = {};
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string" && value.trim() !== "") body[name] = value.trim();
  }
  return body;
}

function show(element, text) {
  if (!element) return;
  element.textContent = text;
  element.hidden = !text;
}

async function submit(form, event) {
  event.preventDefault();
  const alert = form.querySelector("[role=alert]");
  const status = form.querySelector("[role=status]");
  const button = form.querySelector("button[type=submit]");
  const label = button?.textContent;
  show(alert, "");
  if (button) {
    button.disabled = true;
    button.textContent = button.dataset.busyLabel || label;
  }
  try {
    const response = await fetch(form.dataset.googleApi, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRF-Token": csrfToken()},
      body: JSON.stringify(fieldsOf(form)),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      show(alert, data.error?.message || `The request failed (${response.status}).`);
      return;
    }
    if (data.redirect) {
      window.location.assign(data.redirect);
      return;
    }
    show(status, data.status || "Done.");
  } catch {
    show(alert, NETWORK_FAILURE);
  } finally {
    if (button) {
      button.disabled = false;
      button.textContent = label;
    }
  }
}

for (const form of document.querySelectorAll("form[data-google-api]")) {
  form.addEventListener("submit", (event) => submit(form, event));
}
