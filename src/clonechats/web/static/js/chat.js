// The chat page: send, stream, stop, regenerate (‹ › then pages through the replies), continue a
// reply cut at the length limit, edit any message sent (an earlier one forks the chat; ‹ › on it
// switches between its versions, each with its branch) or a persona reply, copy, delete, and the
// keyboard shortcuts listed in the page's shortcuts dialog (press ?).
//
// Replies stream as Server-Sent Events over a POST, read with fetch and a ReadableStream
// (EventSource can only GET). While a reply streams its tokens are shown as plain text; when it
// ends, the last messages are fetched again already rendered by the server (`/chat/{id}/tail`),
// so the Markdown shown is always the stored, sanitised HTML and the moods and statuses are the
// stored ones. The SSE response's `X-Message-Id` header names the reply, for the Stop button.
// Once a send is accepted, the user's message is swapped for its server rendering too (the same
// sanitised Markdown as on a reload).

import {
  addCodeCopyButtons, codeOf, copyText, inTextField, setUpShortcutsDialog, toaster, typingIndicator,
} from "./chat-extras.js";
import { editReplyInPlace } from "./chat-reply-edit.js";
import { csrfToken } from "./forms.js";
import { setUpMyMemories } from "./my-memories.js";

// The buttons that start a reply: disabled while one streams, and taken off older messages
// when the last ones are shown again.
const REPLY_BUTTONS = "[data-action=regenerate], [data-action=edit], [data-action=continue]";
// What only the latest reply has: gone from earlier ones once the tail is rendered again.
const LATEST_REPLY_CONTROLS = "[data-action=regenerate], [data-action=continue], [data-alternatives]";
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
  const cancelEditButton = form?.querySelector("[data-cancel-edit]");
  const toast = toaster(root.querySelector("[data-toasts]"));
  let current = null;
  let editing = null;

  function setBusy(busy) {
    root.setAttribute("aria-busy", String(busy));
    if (sendButton) sendButton.hidden = busy;
    if (stopButton) {
      stopButton.hidden = !busy;
      stopButton.disabled = false;
    }
    for (const button of transcript.querySelectorAll(REPLY_BUTTONS)) {
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

  // A reopened chat shows its latest message, just above the message box (which is sticky, so
  // it covers the bottom of the window).
  function showLatest() {
    const linked = window.location.hash.startsWith("#message-")
      && document.getElementById(window.location.hash.slice(1));
    if (linked && transcript.contains(linked)) {  // a switched branch: back to where it forks
      linked.scrollIntoView({ block: "center", behavior: "instant" });
      return;
    }
    const last = transcript.lastElementChild;
    if (!last) return;
    const covered = form ? form.getBoundingClientRect().height : 0;
    const below = last.getBoundingClientRect().bottom - (window.innerHeight - covered);
    if (below > 0) window.scrollBy({ top: below, behavior: "instant" });
  }

  async function fetchTail() {
    const response = await fetch(`${tailUrl}?count=2`, {
      credentials: "same-origin", headers: { Accept: "text/html" },
    }).catch(() => null);
    if (!response?.ok) return null;
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    return template;
  }

  // The sent message as the server renders it (sanitised Markdown), in place of its plain text.
  async function showStoredUserMessage(provisional) {
    const template = await fetchTail();
    const users = template?.content.querySelectorAll(".message.user [data-message-body]");
    const body = provisional.item.querySelector("[data-message-body]");
    if (!users?.length || !body?.isConnected) return;
    body.replaceWith(users[users.length - 1]);
    addCodeCopyButtons(provisional.item);
  }

  // Replace `stale` nodes, and the page's copies of the last two messages, with those two
  // messages as the server renders them now (with their moods, statuses and buttons).
  async function refreshTail(stale) {
    const template = await fetchTail();
    if (!template) {
      window.location.reload();
      return;
    }
    for (const node of stale) node.remove();
    for (const fresh of template.content.querySelectorAll("[data-message-id]")) {
      const id = CSS.escape(fresh.dataset.messageId);
      transcript.querySelector(`[data-message-id="${id}"]`)?.remove();
    }
    for (const control of transcript.querySelectorAll(LATEST_REPLY_CONTROLS)) {
      control.remove();
    }
    transcript.append(template.content);
    addCodeCopyButtons(transcript);
    scrollToEnd();
  }

  // POST `url` and stream the reply into `reply`; `stale` nodes are replaced by the last
  // messages when it ends; `restore()` undoes the page change if nothing was sent;
  // `onAccepted()` runs once the server has taken the request.
  async function streamReply(url, body, { reply, stale, restore, onAccepted = () => {} }) {
    clearProblems();
    setBusy(true);
    let stopTyping = typingIndicator(reply, personaName);
    const endTyping = () => {
      stopTyping();
      stopTyping = () => {};
    };
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
    if (!response || !response.ok) endTyping();
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
    onAccepted();
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
          endTyping();
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
    endTyping();
    await refreshTail(stale);
    if (!outcome?.done) {
      showError(outcome?.error?.message || "The connection was lost before the reply ended.");
      refreshBalance();
    }
    setBusy(false);
    return true;
  }

  // The stored text, not the shown one: the page shows the Markdown rendered.
  async function storedText(item) {
    const response = await fetch(`${api}/messages/${encodeURIComponent(item.dataset.messageId)}`, {
      credentials: "same-origin",
    }).catch(() => null);
    if (response?.ok) {
      const text = (await response.json()).message?.text;
      if (typeof text === "string") return text;
    }
    return item.querySelector("[data-message-body]")?.innerText || "";
  }

  function showEditing(id) {
    editing = id;
    form.classList.add("editing");
    sendButton.textContent = "Save and resend";
    if (cancelEditButton) cancelEditButton.hidden = false;
  }

  async function startEditing(item) {
    showEditing(item.dataset.messageId);
    textarea.value = (await storedText(item)).trim();
    textarea.focus();
  }

  function stopEditing() {
    editing = null;
    form.classList.remove("editing");
    sendButton.textContent = "Send";
    if (cancelEditButton) cancelEditButton.hidden = true;
  }

  function cancelEditing() {
    stopEditing();
    textarea.value = "";
    textarea.focus();
  }

  function editLastUserMessage() {
    const button = [...transcript.querySelectorAll(".message.user [data-action=edit]")].pop();
    const item = button?.closest("[data-message-id]");
    if (!item || button.disabled) return false;
    startEditing(item);
    return true;
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
    const forks = replaced.slice(1).some((node) => node.classList.contains("user"));
    stopEditing();
    return streamReply(url, { text, ...(root.chatHooks?.sendOptions?.() || {}) }, {
      reply, stale: [...stale, ...replaced],
      onAccepted: () => {
        showStoredUserMessage(user);
        if (forks) toast("New branch started; ‹ › on your message goes back to the other one");
        else if (wasEditing) toast("Edit saved");
      },
      restore: () => {
        user.item.remove();
        reply.item.remove();
        for (const node of replaced) node.hidden = false;
        textarea.value = text;
        if (wasEditing) showEditing(wasEditing);
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

  // More text for a reply cut at the length limit, streamed onto the end of the same message.
  async function continueReply(item) {
    const body = item.querySelector("[data-message-body]");
    const note = item.querySelector("[data-cut-note]");
    const paragraph = element("p", "plain-text", "");
    body.append(paragraph);
    if (note) note.hidden = true;
    await streamReply(`${api}/messages/${encodeURIComponent(item.dataset.messageId)}/continue`, {}, {
      reply: { item, paragraph }, stale: [],
      restore: () => {
        paragraph.remove();
        if (note) note.hidden = false;
      },
    });
  }

  async function editReply(item) {
    editReplyInPlace(item, {
      url: `${api}/messages/${encodeURIComponent(item.dataset.messageId)}`,
      text: (await storedText(item)).trim(),
      onSaved: () => {
        addCodeCopyButtons(item);
        toast("Reply edited");
      },
    });
  }

  async function copy(item, button) {
    await copyText(await storedText(item), button, toast);
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
      toast("Message deleted");
      await memories?.offerToForget(messageId, learnt);
      return;
    }
    const body = response ? await response.json().catch(() => null) : null;
    showError(body?.error?.message || "The message could not be deleted. Check your connection.");
  }

  // Show another reply to the same message in place of `item` (the ‹ › control); on a message
  // the user sent, another version of it with its branch: the page reloads at that message.
  async function choose(item, messageId) {
    if (!messageId || !item) return;
    const response = await fetch(`${api}/messages/${encodeURIComponent(messageId)}/choose`, {
      method: "POST", credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
    }).catch(() => null);
    if (response?.ok && item.dataset.role === "user") {
      window.history.replaceState(null, "", `#message-${messageId}`);
      window.location.reload();
      return;
    }
    if (response?.ok) {
      await refreshTail([item]);
      const shown = transcript.querySelector(`[data-message-id="${CSS.escape(messageId)}"]`);
      shown?.querySelector("[data-alternatives] button:not([disabled])")?.focus();
      return;
    }
    const body = response ? await response.json().catch(() => null) : null;
    showError(body?.error?.message || "That could not be shown. Check your connection.");
  }

  addCodeCopyButtons(transcript);
  showLatest();
  setUpShortcutsDialog(root.querySelector("[data-shortcuts]"));

  transcript.addEventListener("click", (event) => {
    const codeButton = event.target.closest("button[data-copy-code]");
    if (codeButton && transcript.contains(codeButton)) {
      copyText(codeOf(codeButton), codeButton, toast);
      return;
    }
    const button = event.target.closest("button[data-action]");
    if (!button || !transcript.contains(button)) return;
    const item = button.closest("[data-message-id]");
    if (!item) return;
    if (button.dataset.action === "copy") copy(item, button);
    else if (current) return;
    else if (button.dataset.action === "regenerate") regenerate(item);
    else if (button.dataset.action === "continue") continueReply(item);
    else if (button.dataset.action === "edit" && form) startEditing(item);
    else if (button.dataset.action === "edit-reply") editReply(item);
    else if (button.dataset.action === "delete") remove(item);
    else if (button.dataset.action === "choose") choose(item, button.dataset.choose);
  });

  // ← and → (outside a text box) page through the other replies to the last message.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return;
    if (inTextField(event.target) || current || document.querySelector("dialog[open]")) return;
    const control = [...transcript.querySelectorAll("[data-alternatives]")].pop();
    const button = control?.querySelectorAll("button[data-action=choose]")[
      event.key === "ArrowLeft" ? 0 : 1];
    if (!button || button.disabled) return;
    event.preventDefault();
    choose(button.closest("[data-message-id]"), button.dataset.choose);
  });

  if (!form) return;

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (!text || current) return;
    send(text);
  });

  // Enter and Ctrl/⌘+Enter send, Shift+Enter is a new line; ↑ in an empty box edits the last
  // message; Esc cancels an edit.
  textarea.addEventListener("keydown", (event) => {
    if (event.isComposing) return;
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape" && editing) {
      event.preventDefault();
      event.stopPropagation();
      cancelEditing();
    } else if (event.key === "ArrowUp" && !textarea.value && !editing && !current) {
      if (editLastUserMessage()) event.preventDefault();
    }
  });

  cancelEditButton?.addEventListener("click", cancelEditing);

  async function stop() {
    if (!current || current.stopping) return;
    current.stopping = true;
    stopButton.disabled = true;
    toast("Reply stopped");
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
  }

  stopButton?.addEventListener("click", stop);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !current || document.querySelector("dialog[open]")) return;
    if (inTextField(event.target) && event.target !== textarea) return;
    event.preventDefault();
    stop();
  });
  root.dataset.ready = "true";  // handlers are bound: Enter now sends
}

const root = document.querySelector("[data-chat]");
if (root) setUpChat(root);
