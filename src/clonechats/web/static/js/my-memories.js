// The chat page's "remembers about you" panel (templates/chat/_my_memories.html): the signed-in
// user's own memories of this persona (learnt from their chats, or typed in by its owner),
// with pin, edit and delete, and the switch that stops the persona learning from the chat.
// Also `offerToForget(messageId)`, which chat.js calls when a message is deleted. Memory text
// is only ever set with textContent.

import { csrfToken } from "./forms.js";

const FAILED = "Could not reach the server. Check your connection and try again.";
const SOURCES = { user: "Added by the owner", chat: "Learnt from a chat" };

async function call(url, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch(() => null);
  if (!response) throw { message: FAILED };
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw data?.error ?? { message: `Something went wrong (HTTP ${response.status}).` };
  return data;
}

function button(label, action, className = "secondary") {
  const element = document.createElement("button");
  element.type = "button";
  element.className = `${className} small`;
  element.textContent = label;
  element.dataset.action = action;
  return element;
}

export function setUpMyMemories(root) {
  const api = root.dataset.api;
  const list = root.querySelector("[data-my-memories-list]");
  const empty = root.querySelector("[data-my-memories-empty]");
  const error = root.querySelector("[data-my-memories-error]");
  const toggle = root.querySelector("[data-learning-toggle]");

  function showError(problem) {
    error.textContent = problem ? problem.message : "";
    error.hidden = !problem;
  }

  function render(memory) {
    const item = document.createElement("li");
    item.className = "my-memory";
    item.dataset.memoryId = memory.id;
    const text = document.createElement("p");
    text.className = "my-memory-text";
    text.textContent = memory.text;
    const meta = document.createElement("p");
    meta.className = "hint";
    meta.textContent = `${SOURCES[memory.source] || ""}${memory.pinned ? " · pinned" : ""}`;
    const actions = document.createElement("div");
    actions.className = "my-memory-actions";
    actions.append(button(memory.pinned ? "Unpin" : "Pin", memory.pinned ? "unpin" : "pin"),
      button("Edit", "edit"), button("Delete", "delete", "danger"));
    item.append(text, meta, actions);
    return item;
  }

  async function load() {
    showError(null);
    try {
      const data = await call(api);
      list.replaceChildren(...data.items.map(render));
      empty.hidden = data.items.length > 0;
      toggle.checked = data.learning.enabled;
    } catch (problem) { showError(problem); }
  }

  async function act(item, action) {
    const url = `${api}/${encodeURIComponent(item.dataset.memoryId)}`;
    try {
      if (action === "delete") {
        if (!window.confirm("Forget this? The persona will no longer recall it.")) return;
        await call(url, { method: "DELETE" });
      } else if (action === "edit") {
        const current = item.querySelector(".my-memory-text").textContent;
        const text = window.prompt("Edit what is remembered:", current);
        if (text === null || text.trim() === current) return;
        await call(url, { method: "PATCH", body: { text } });
      } else {
        await call(url, { method: "PATCH", body: { pinned: action === "pin" } });
      }
      await load();
    } catch (problem) { showError(problem); }
  }

  list.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-action]");
    const item = target?.closest("[data-memory-id]");
    if (item) act(item, target.dataset.action);
  });
  toggle.addEventListener("change", async () => {
    try {
      await call(`${api}/learning`, { method: "PUT", body: { enabled: toggle.checked } });
    } catch (problem) {
      toggle.checked = !toggle.checked;
      showError(problem);
    }
  });
  root.addEventListener("toggle", () => { if (root.open) load(); });

  return {
    // Before a message is deleted: what was learnt from it. After: offer to forget it.
    async learntFrom(messageId) {
      const data = await call(`${api}?message_id=${encodeURIComponent(messageId)}`).catch(() => null);
      return data ? data.items : [];
    },
    async offerToForget(messageId, learnt) {
      if (!learnt.length) return;
      const lines = learnt.map((memory) => `• ${memory.text}`).join("\n");
      if (!window.confirm(`This message also taught ${root.dataset.personaName}:\n${lines}\n\nForget that too?`)) return;
      try {
        await call(`${api}?message_id=${encodeURIComponent(messageId)}`, { method: "DELETE" });
        if (root.open) await load();
      } catch (problem) { showError(problem); }
    },
  };
}
