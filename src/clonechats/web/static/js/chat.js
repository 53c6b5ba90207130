// The chat page: send, stream, stop, regenerate, edit the last message, copy, delete.
//
// Replies stream as Server-Sent Events over a POST, read with fetch and a ReadableStream
// (EventSource can only GET). While a reply streams its tokens are shown as plain text; when it
// ends, the last messages are fetched again already rendered by the server (`/chat/{id}/tail`),
// so the Markdown shown is always the stored, sanitised HTML and the moods and statuses are the
// stored ones. The SSE response's `X-Message-Id` header names the reply, for the Stop button.

import { csrfToken } from "./forms.js";
import { setUpMyMemories } from "./my-memories.js";

const NETWORK_FAILURE = "Could not reach the server. Check your connection and try again.";

function parseEvent(raw) {
  let name = "message";
  const data = [];
  for (const line of raw.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  try {
    return { name, data: JSON.parse(data.join("\n") || "null") };
  } catch {
    return { name, data: null };
  }
}

async function readError(response) {
  const body = await response.json().catch(() => null);
  if (body?.error?.message) return body.error;
  return {
    code: "http_error",
    message: `Something went wrong (HTTP ${response.status}). Please try again in a moment.`,
  };
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function provisionalMessage(role, author, text) {
  const item = element("li", `message ${role} status-streaming provisional`);
  item.dataset.role = role;
  const meta = element("div", "message-meta");
  const avatar = role === "assistant" ? document.querySelector("template[data-persona-avatar]") : null;
  if (avatar) meta.append(avatar.content.cloneNode(true));
  meta.append(element("span", "message-author", author));
  const body = element("div", "message-body");
  body.dataset.messageBody = "";
  const paragraph = element("p", "plain-text", text);
  body.append(paragraph);
  item.append(meta, body);
  return { item, paragraph };
}

function setUpChat(root) {
  const memoriesRoot = document.querySelector("[data-my-memories]");
  const memories = memoriesRoot ? setUpMyMemories(memoriesRoot) : null;
  const api = root.dataset.api;
  const tailUrl = root.dataset.tail;
  const transcript = root.querySelector("[data-transcript]");
  const form = root.querySelector("[data-composer]");
  const textarea = form?.querySelector("textarea");
  const sendButton = form?.querySelector("[data-send]");
  const stopButton = form?.querySelector("[data-stop]");
  const paywall = root.querySelector("[data-paywall]");
  const errorBox = root.querySelector("[data-chat-error]");
  const balance = root.querySelector("[data-balance]");
  const personaName = root.dataset.personaName || "";
  let current = null;
  let editing = null;

  function setBusy(busy) {
    root.setAttribute("aria-busy", String(busy));
    if (sendButton) sendButton.hidden = busy;
    if (stopButton) {
      stopButton.hidden = !busy;
      stopButton.disabled = false;
    }
    for (const button of transcript.querySelectorAll("[data-action=regenerate], [data-action=edit]")) {
      button.disabled = busy;
    }
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function clearProblems() {
    errorBox.hidden = true;
    errorBox.textContent = "";
    paywall.hidden = true;
  }

  function showBalance(credits) {
    if (balance && Number.isFinite(credits)) balance.textContent = `${credits} credits`;
  }

  async function refreshBalance() {
    const response = await fetch("/api/v1/auth/me", { credentials: "same-origin" }).catch(() => null);
    if (response?.ok) showBalance((await response.json()).user?.credits);
  }

  function scrollToEnd() {
    transcript.lastElementChild?.scrollIntoView({ block: "end", behavior: "smooth" });
  }

  // Replace `stale` nodes, and the page's copies of the last two messages, with those two
  // messages as the server renders them now (with their moods, statuses and buttons).
  async function refreshTail(stale) {
    const response = await fetch(`${tailUrl}?count=2`, {
      credentials: "same-origin", headers: { Accept: "text/html" },
    }).catch(() => null);
    if (!response?.ok) {
      window.location.reload();
      return;
    }
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    for (const node of stale) node.remove();
    for (const fresh of template.content.querySelectorAll("[data-message-id]")) {
      const id = CSS.escape(fresh.dataset.messageId);
      transcript.querySelector(`[data-message-id="${id}"]`)?.remove();
    }
    for (const button of transcript.querySelectorAll("[data-action=regenerate], [data-action=edit]")) {
      button.remove();
    }
    transcript.append(template.content);
    scrollToEnd();
  }

  // POST `url` and stream the reply into `reply`; `stale` nodes are replaced by the last
  // messages when it ends; `restore()` undoes the page change if nothing was sent.
  async function streamReply(url, body, { reply, stale, restore }) {
    clearProblems();
    setBusy(true);
    const controller = new AbortController();
    current = { controller, messageId: null, stopping: false };
    let response = null;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        signal: controller.signal,
        headers: {
          "Content-Type": "application/json",
          Accept: "text/event-stream",
          "X-CSRF-Token": csrfToken(),
        },
        body: JSON.stringify(body),
      });
    } catch {
      response = null;
    }
    if (!response && current.stopping) {
      window.location.reload();  // stopped before the reply started: show what was stored
      return false;
    }
    if (!response || !response.ok) {
      const error = response ? await readError(response) : { code: "network", message: NETWORK_FAILURE };
      restore();
      if (error.code === "insufficient_credits") {
        paywall.hidden = false;
        paywall.scrollIntoView({ block: "nearest" });
        refreshBalance();
      } else if (error.code === "message_blocked") {
        await refreshTail(stale);
        showError(error.message);
      } else {
        showError(error.message);
      }
      current = null;
      setBusy(false);
      return false;
    }
    current.messageId = response.headers.get("X-Message-Id");
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let outcome = null;
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch {
        break;
      }
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event.name === "token" && event.data) {
          reply.paragraph.textContent += event.data.text;
          reply.item.scrollIntoView({ block: "end" });
        } else if (event.name === "done" && event.data) {
          outcome = { done: event.data };
          showBalance(event.data.balance);
        } else if (event.name === "error" && event.data) {
          outcome = { error: event.data };
        }
        root.dispatchEvent(new CustomEvent("chat:event", { detail: event }));
      }
    }
    current = null;
    await refreshTail(stale);
    if (!outcome?.done) {
      showError(outcome?.error?.message || "The connection was lost before the reply ended.");
      refreshBalance();
    }
    setBusy(false);
    return true;
  }

  function startEditing(item) {
    const id = item.dataset.messageId;
    const text = item.querySelector("[data-message-body]")?.innerText.trim() || "";
    editing = id;
    textarea.value = text;
    form.classList.add("editing");
    sendButton.textContent = "Save and resend";
    textarea.focus();
  }

  function stopEditing() {
    editing = null;
    form.classList.remove("editing");
    sendButton.textContent = "Send";
  }

  async function send(text) {
    root.querySelector("[data-empty-state]")?.remove();
    const user = provisionalMessage("user", "You", text);
    const reply = provisionalMessage("assistant", personaName, "");
    const stale = [user.item, reply.item];
    let url = `${api}/messages`;
    let replaced = [];
    if (editing) {
      const target = transcript.querySelector(`[data-message-id="${CSS.escape(editing)}"]`);
      url = `${api}/messages/${encodeURIComponent(editing)}/edit`;
      if (target) {
        replaced = [target];
        let next = target.nextElementSibling;
        while (next) {
          replaced.push(next);
          next = next.nextElementSibling;
        }
      }
    }
    for (const node of replaced) node.hidden = true;
    transcript.append(user.item, reply.item);
    scrollToEnd();
    textarea.value = "";
    const wasEditing = editing;
    stopEditing();
    return streamReply(url, { text, ...(root.chatHooks?.sendOptions?.() || {}) }, {
      reply, stale: [...stale, ...replaced],
      restore: () => {
        user.item.remove();
        reply.item.remove();
        for (const node of replaced) node.hidden = false;
        textarea.value = text;
        if (wasEditing) {
          editing = wasEditing;
          form.classList.add("editing");
          sendButton.textContent = "Save and resend";
        }
      },
    });
  }

  async function regenerate(item) {
    const reply = provisionalMessage("assistant", personaName, "");
    item.hidden = true;
    item.after(reply.item);
    await streamReply(`${api}/messages/${encodeURIComponent(item.dataset.messageId)}/regenerate`, {}, {
      reply, stale: [item, reply.item],
      restore: () => {
        reply.item.remove();
        item.hidden = false;
      },
    });
  }

  async function copy(item, button) {
    let text = item.querySelector("[data-message-body]")?.innerText || "";
    const response = await fetch(`${api}/messages/${encodeURIComponent(item.dataset.messageId)}`, {
      credentials: "same-origin",
    }).catch(() => null);
    if (response?.ok) text = (await response.json()).message?.text ?? text;
    let copied = false;
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch {
      copied = false;
    }
    const label = button.dataset.idleLabel || button.textContent;
    button.dataset.idleLabel = label;
    button.textContent = copied ? "Copied" : "Could not copy";
    window.setTimeout(() => { button.textContent = label; }, 2000);
  }

  async function remove(item) {
    if (!window.confirm("Delete this message? This cannot be undone.")) return;
    const messageId = item.dataset.messageId;
    const learnt = memories && item.classList.contains("user") ? await memories.learntFrom(messageId) : [];
    const response = await fetch(`${api}/messages/${encodeURIComponent(messageId)}`, {
      method: "DELETE", credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
    }).catch(() => null);
    if (response?.ok) {
      item.remove();
      await memories?.offerToForget(messageId, learnt);
      return;
    }
    const body = response ? await response.json().catch(() => null) : null;
    showError(body?.error?.message || "The message could not be deleted. Check your connection.");
  }

  transcript.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || !transcript.contains(button)) return;
    const item = button.closest("[data-message-id]");
    if (!item) return;
    if (button.dataset.action === "copy") copy(item, button);
    else if (current) return;
    else if (button.dataset.action === "regenerate") regenerate(item);
    else if (button.dataset.action === "edit" && form) startEditing(item);
    else if (button.dataset.action === "delete") remove(item);
  });

  if (!form) return;

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (!text || current) return;
    send(text);
  });

  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape" && editing) {
      stopEditing();
      textarea.value = "";
    }
  });

  stopButton?.addEventListener("click", async () => {
    if (!current || current.stopping) return;
    current.stopping = true;
    stopButton.disabled = true;
    const { controller, messageId } = current;
    if (!messageId) {
      controller.abort();
      return;
    }
    const response = await fetch(`${api}/messages/${encodeURIComponent(messageId)}/stop`, {
      method: "POST", credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
    }).catch(() => null);
    if (!response?.ok) controller.abort();
  });
  root.dataset.ready = "true";  // handlers are bound: Enter now sends
}

const root = document.querySelector("[data-chat]");
if (root) setUpChat(root);
