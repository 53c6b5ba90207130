// File uploads for the persona pages: avatar, reference images, reference voice, card import.
//
//   <form data-upload="/api/v1/..." data-max-bytes="N" [data-after="reload"] [data-card-import]
//         [data-success-message="..."]>  with one <input type="file" name="file">
//   input[data-preview-target="selector"]: shows the chosen picture in that <img> before upload
//   button[data-delete-media="id"][data-confirm="Question?"]: deletes a file, then reloads
//
// Files go as multipart with the CSRF header; progress comes from XMLHttpRequest upload events;
// errors use the API's {"error": {"code", "message"}} shape and are shown in [role=alert].

import { csrfToken } from "./forms.js";

const NETWORK_FAILURE = "Could not reach the server. Check your connection and try again.";

function describeSize(bytes) {
  const megabytes = bytes / (1024 * 1024);
  return megabytes >= 1 ? `${Number(megabytes.toFixed(1))} MB` : `${Math.round(bytes / 1024)} KB`;
}

function send(method, url, body, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    request.setRequestHeader("Accept", "application/json");
    request.setRequestHeader("X-CSRF-Token", csrfToken());
    if (onProgress) {
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100));
      });
    }
    request.addEventListener("load", () => {
      let parsed = null;
      try {
        parsed = request.responseText ? JSON.parse(request.responseText) : null;
      } catch {
        parsed = null;
      }
      resolve({ status: request.status, body: parsed });
    });
    request.addEventListener("error", () => reject(new Error(NETWORK_FAILURE)));
    request.addEventListener("abort", () => reject(new Error(NETWORK_FAILURE)));
    request.send(body);
  });
}

function errorOf(result) {
  if (result.body?.error?.message) return result.body.error;
  return {
    code: "http_error",
    message: `Something went wrong (HTTP ${result.status}). Please try again in a moment.`,
  };
}

function goToLogin() {
  const here = window.location.pathname + window.location.search;
  window.location.assign(`/login?next=${encodeURIComponent(here)}`);
}

function region(container, role) {
  return container.querySelector(`[role="${role}"]`);
}

function show(container, role, text) {
  const alert = region(container, "alert");
  const status = region(container, "status");
  for (const element of [alert, status]) {
    if (element) {
      element.hidden = true;
      element.textContent = "";
    }
  }
  const target = region(container, role);
  if (!target || !text) return target;
  target.textContent = text;
  target.hidden = false;
  if (role === "alert") {
    target.tabIndex = -1;
    target.focus();
  }
  return target;
}

function setBusy(form, busy) {
  form.setAttribute("aria-busy", String(busy));
  const button = form.querySelector("button[type=submit]");
  if (!button) return;
  button.disabled = busy;
  if (busy) {
    button.dataset.idleLabel = button.textContent;
    if (button.dataset.busyLabel) button.textContent = button.dataset.busyLabel;
  } else if (button.dataset.idleLabel) {
    button.textContent = button.dataset.idleLabel;
  }
}

function showImported(form, body) {
  const persona = body.persona;
  const ignored = Array.isArray(body.ignored) ? body.ignored : [];
  const editPath = `/personas/${encodeURIComponent(persona.id)}/edit`;
  if (!ignored.length) {
    window.location.assign(editPath);
    return true;
  }
  const status = show(form, "status", `Imported “${persona.name}”. Not imported: ${ignored.join(", ")}. `);
  const link = document.createElement("a");
  link.href = editPath;
  link.textContent = "Open the new persona";
  status.append(link);
  form.reset();
  return false;
}

function succeed(form, body) {
  if (form.dataset.cardImport !== undefined) return showImported(form, body);
  if (form.dataset.after === "reload") {
    window.location.reload();
    return true;
  }
  const preview = document.querySelector("[data-avatar-preview]");
  if (preview && body?.media?.url && body.media.kind === "avatar") {
    preview.src = body.media.url;
    preview.hidden = false;
    document.querySelector("[data-avatar-empty]")?.remove();
  }
  show(form, "status", form.dataset.successMessage || "Uploaded.");
  form.reset();
  return false;
}

async function upload(form) {
  const input = form.querySelector('input[type="file"]');
  const file = input?.files?.[0];
  if (!file) {
    show(form, "alert", "Choose a file first.");
    return;
  }
  const limit = Number(form.dataset.maxBytes || 0);
  if (limit && file.size > limit) {
    show(form, "alert", `This file is ${describeSize(file.size)}; the limit is ${describeSize(limit)}.`);
    return;
  }
  show(form, "alert", "");
  const progress = form.querySelector("[data-progress]");
  if (progress) {
    progress.value = 0;
    progress.hidden = false;
  }
  const body = new FormData();
  body.append("file", file);
  setBusy(form, true);
  let leaving = false;
  try {
    const result = await send("POST", form.dataset.upload, body, (percent) => {
      if (progress) progress.value = percent;
    });
    if (result.status === 401) {
      goToLogin();
      leaving = true;
      return;
    }
    if (result.status < 200 || result.status >= 300) {
      show(form, "alert", errorOf(result).message);
      return;
    }
    leaving = succeed(form, result.body);
  } catch (error) {
    show(form, "alert", error.message || NETWORK_FAILURE);
  } finally {
    if (progress && !leaving) progress.hidden = true;
    if (!leaving) setBusy(form, false);
  }
}

async function deleteMedia(button) {
  const question = button.dataset.confirm;
  if (question && !window.confirm(question)) return;
  const section = button.closest("[data-uploads]") || document;
  const alert = section.querySelector("[data-uploads-error]");
  button.disabled = true;
  try {
    const result = await send("DELETE", `/api/v1/media/${encodeURIComponent(button.dataset.deleteMedia)}`, null);
    if (result.status === 401) {
      goToLogin();
      return;
    }
    if (result.status !== 204) {
      if (alert) {
        alert.textContent = errorOf(result).message;
        alert.hidden = false;
      }
      button.disabled = false;
      return;
    }
    window.location.reload();
  } catch (error) {
    if (alert) {
      alert.textContent = error.message || NETWORK_FAILURE;
      alert.hidden = false;
    }
    button.disabled = false;
  }
}

const previews = new WeakMap();

function showPreview(input) {
  const target = document.querySelector(input.dataset.previewTarget);
  const file = input.files?.[0];
  if (!target || !file || !file.type.startsWith("image/")) return;
  const previous = previews.get(target);
  if (previous) URL.revokeObjectURL(previous);
  const url = URL.createObjectURL(file);
  previews.set(target, url);
  target.src = url;
  target.hidden = false;
}

function setUp() {
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.upload) return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    upload(form);
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest?.("button[data-delete-media]");
    if (button) deleteMedia(button);
  });
  document.addEventListener("change", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.dataset.previewTarget) showPreview(input);
  });
}

setUp();
