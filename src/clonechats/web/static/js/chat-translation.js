// Translation chats: show each message's original or its translation.
//
// Every message of a translation chat is rendered with both sides (`[data-message-body]`, what
// was written, and `[data-translation-body]`, its translation); its `data-showing` attribute
// says which one shows. A message's own button flips it; the radio group sets every message at
// once: "reader" (the user's language: their own originals and the replies' translations),
// "original" or "translation". Messages that chat.js adds later (a reply once it ends) take the
// chosen view. "Translate again" asks the server to translate a reply whose translation failed.

import { csrfToken } from "./forms.js";

function hasBothSides(item) {
  return item.querySelector(":scope > [data-translation-body]") !== null;
}

function readerSide(item) {
  return item.dataset.role === "assistant" ? "translation" : "original";
}

function show(item, side) {
  if (!hasBothSides(item)) return;
  item.dataset.showing = side;
  const button = item.querySelector("[data-translation-toggle]");
  if (button) {
    button.textContent = side === "translation" ? button.dataset.labelOriginal : button.dataset.labelTranslation;
    button.setAttribute("aria-pressed", String(side === "original"));
  }
}

function setUp(root) {
  const transcript = root.querySelector("[data-transcript]");
  const controls = root.querySelector("[data-translation-controls]");
  const errorBox = root.querySelector("[data-chat-error]");
  let view = "reader";

  function apply(item) {
    show(item, view === "reader" ? readerSide(item) : view);
  }

  function applyAll() {
    for (const item of transcript.querySelectorAll("[data-message-id]")) apply(item);
  }

  controls?.addEventListener("change", (event) => {
    if (event.target.name !== "translation-view") return;
    view = event.target.value;
    applyAll();
  });

  async function retry(item, button) {
    button.disabled = true;
    const api = root.dataset.api;
    const response = await fetch(`${api}/messages/${encodeURIComponent(item.dataset.messageId)}/translate`, {
      method: "POST", credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
    }).catch(() => null);
    if (response?.ok) {
      window.location.reload();
      return;
    }
    const body = response ? await response.json().catch(() => null) : null;
    errorBox.textContent = body?.error?.message || "The translation could not be requested. Check your connection.";
    errorBox.hidden = false;
    button.disabled = false;
  }

  transcript.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-translation-toggle], button[data-translation-retry]");
    if (!button || !transcript.contains(button)) return;
    const item = button.closest("[data-message-id]");
    if (!item) return;
    if (button.dataset.translationRetry !== undefined) {
      retry(item, button);
    } else {
      show(item, item.dataset.showing === "translation" ? "original" : "translation");
    }
  });

  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node.nodeType === Node.ELEMENT_NODE && node.matches("[data-message-id]")) apply(node);
      }
    }
  }).observe(transcript, { childList: true });

  applyAll();
}

const root = document.querySelector("[data-chat]");
if (root) setUp(root);
