// Rewriting a persona reply in place on the chat page: the Edit button of a reply opens a
// small form over its text; Save sends `PATCH …/messages/{id}` and shows the stored, sanitised
// rendering the server answers with (the same HTML a reload shows), marked "Edited".

import { csrfToken } from "./forms.js";

function editedBadge(item) {
  if (item.querySelector("[data-edited]")) return;
  const badge = document.createElement("span");
  badge.className = "badge message-edited";
  badge.dataset.edited = "";
  badge.textContent = "Edited";
  item.querySelector(".message-meta")?.append(badge);
}

async function save(url, text) {
  const response = await fetch(url, {
    method: "PATCH",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify({ text }),
  }).catch(() => null);
  const body = response ? await response.json().catch(() => null) : null;
  if (response?.ok && body?.message) return { message: body.message };
  return { error: body?.error?.message || "The reply could not be saved. Check your connection and try again." };
}

// Open the editor on `item` (a persona reply), starting from `text`; `onSaved()` runs after.
export function editReplyInPlace(item, { url, text, onSaved = () => {} }) {
  if (item.querySelector("[data-reply-editor]")) return;
  const body = item.querySelector("[data-message-body]");
  const form = document.createElement("form");
  form.className = "reply-editor";
  form.dataset.replyEditor = "";
  const id = `reply-editor-${item.dataset.messageId}`;
  form.innerHTML = `<label for="${id}">Reply text</label><textarea id="${id}" rows="6"></textarea>
    <p class="form-error" role="alert" hidden></p>
    <div class="reply-editor-actions"><button type="submit">Save</button>
    <button type="button" class="link-button" data-cancel>Cancel</button></div>`;
  const textarea = form.querySelector("textarea");
  const problem = form.querySelector("[role=alert]");
  textarea.value = text;
  const close = () => {
    form.remove();
    body.hidden = false;
  };
  form.querySelector("[data-cancel]").addEventListener("click", close);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const saveButton = form.querySelector("[type=submit]");
    saveButton.disabled = true;
    const result = await save(url, textarea.value);
    saveButton.disabled = false;
    if (result.error) {
      problem.textContent = result.error;
      problem.hidden = false;
      return;
    }
    body.innerHTML = result.message.html;  // rendered and sanitised by the server
    editedBadge(item);
    close();
    onSaved(result.message);
  });
  body.hidden = true;
  body.after(form);
  textarea.focus();
}
