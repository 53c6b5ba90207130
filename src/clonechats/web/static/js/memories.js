// The memories panel of the persona editor (templates/personas/_memories.html): lists the
// persona's memories page by page and lets the owner pin, edit, delete and test recall.
// Adding goes through forms.js; this module refreshes the list after it. Memory text is only
// ever set with textContent, never as HTML.

import { csrfToken } from "./forms.js";

const NETWORK_FAILURE = "Could not reach the server. Check your connection and try again.";
const SOURCES = { user: "Added by you", chat: "Kept from a chat" };
const HOW = { meaning: "close in meaning", words: "shares words", pinned: "pinned" };
const PAGE_SIZE = 50;

async function call(url, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw { code: "network_error", message: NETWORK_FAILURE };
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) {
      const here = window.location.pathname + window.location.search;
      window.location.assign(`/login?next=${encodeURIComponent(here)}`);
    }
    throw data?.error ?? { code: "http_error",
      message: `Something went wrong (HTTP ${response.status}). Please try again.` };
  }
  return data;
}

function showAlert(element, error) {
  if (!element) return;
  element.textContent = error ? error.message : "";
  element.hidden = !error;
}

function formatDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

class MemoryPanel {
  constructor(root) {
    this.root = root;
    this.api = root.dataset.api;
    this.list = root.querySelector("[data-memories-list]");
    this.template = root.querySelector("[data-memory-template]");
    this.empty = root.querySelector("[data-memories-empty]");
    this.more = root.querySelector("[data-memories-more]");
    this.count = root.querySelector("[data-memories-count]");
    this.error = root.querySelector("[data-memories-error]");
    this.nextCursor = null;
  }

  start() {
    this.root.querySelector("[data-memories-add]")
      ?.addEventListener("forms:success", () => this.reload());
    this.more.addEventListener("click", () => this.loadPage(this.nextCursor));
    this.list.addEventListener("click", (event) => this.onAction(event));
    this.list.addEventListener("submit", (event) => this.onEdit(event));
    const search = this.root.querySelector("[data-memories-search]");
    search?.addEventListener("submit", (event) => {
      event.preventDefault();
      this.search(search);
    });
    this.reload();
  }

  async reload() {
    this.list.replaceChildren();
    await this.loadPage(null);
  }

  async loadPage(cursor) {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor) params.set("cursor", cursor);
    this.more.disabled = true;
    try {
      const page = await call(`${this.api}?${params}`);
      for (const memory of page.items) this.list.append(this.render(memory));
      this.nextCursor = page.next_cursor;
      showAlert(this.error, null);
    } catch (error) {
      showAlert(this.error, error);
    } finally {
      this.more.disabled = false;
      this.more.hidden = !this.nextCursor;
      this.updateSummary();
    }
  }

  updateSummary() {
    const shown = this.list.children.length;
    this.empty.hidden = shown > 0;
    this.count.textContent = shown === 0 ? "" :
      `${shown}${this.nextCursor ? "+" : ""} ${shown === 1 ? "memory" : "memories"}.`;
  }

  render(memory) {
    const item = this.template.content.firstElementChild.cloneNode(true);
    this.fill(item, memory);
    return item;
  }

  fill(item, memory) {
    item.dataset.id = memory.id;
    item.dataset.pinned = String(memory.pinned);
    const field = (name) => item.querySelector(`[data-field="${name}"]`);
    field("text").textContent = memory.text;
    field("pinned").hidden = !memory.pinned;
    field("source").textContent = SOURCES[memory.source] ?? memory.source;
    const created = field("created_at");
    created.dateTime = memory.created_at;
    created.textContent = formatDate(memory.created_at);
    field("pending").hidden = Boolean(memory.embedding_model);
    const pin = item.querySelector('[data-action="pin"]');
    pin.textContent = memory.pinned ? "Unpin" : "Pin";
    pin.setAttribute("aria-pressed", String(memory.pinned));
    const textarea = item.querySelector("[data-memory-edit] textarea");
    textarea.id = `memory-edit-${memory.id}`;
    field("edit-label").htmlFor = textarea.id;
  }

  memoryUrl(item) {
    return `${this.api}/${encodeURIComponent(item.dataset.id)}`;
  }

  async onAction(event) {
    const button = event.target.closest("button[data-action]");
    if (!button || !this.list.contains(button)) return;
    const item = button.closest("li");
    const form = item.querySelector("[data-memory-edit]");
    const action = button.dataset.action;
    if (action === "edit") {
      form.hidden = false;
      const textarea = form.querySelector("textarea");
      textarea.value = item.querySelector('[data-field="text"]').textContent;
      textarea.focus();
      return;
    }
    if (action === "cancel") {
      form.hidden = true;
      item.querySelector('[data-action="edit"]').focus();
      return;
    }
    if (action === "delete" && !window.confirm("Delete this memory? This cannot be undone.")) {
      return;
    }
    button.disabled = true;
    try {
      if (action === "delete") {
        await call(this.memoryUrl(item), { method: "DELETE" });
        item.remove();
        this.updateSummary();
        showAlert(this.error, null);
        return;
      }
      if (action === "pin") {
        const pinned = item.dataset.pinned !== "true";
        const body = await call(this.memoryUrl(item), { method: "PATCH", body: { pinned } });
        this.fill(item, body.memory);
        showAlert(this.error, null);
      }
    } catch (error) {
      showAlert(this.error, error);
    } finally {
      button.disabled = false;
    }
  }

  async onEdit(event) {
    const form = event.target.closest("[data-memory-edit]");
    if (!form) return;
    event.preventDefault();
    const item = form.closest("li");
    const alert = form.querySelector('[role="alert"]');
    const save = form.querySelector('button[type="submit"]');
    save.disabled = true;
    try {
      const text = form.querySelector("textarea").value;
      const body = await call(this.memoryUrl(item), { method: "PATCH", body: { text } });
      this.fill(item, body.memory);
      showAlert(alert, null);
      form.hidden = true;
      item.querySelector('[data-action="edit"]').focus();
    } catch (error) {
      showAlert(alert, error);
    } finally {
      save.disabled = false;
    }
  }

  async search(form) {
    const results = this.root.querySelector("[data-recall-results]");
    const summary = this.root.querySelector("[data-recall-summary]");
    const alert = form.querySelector('[role="alert"]');
    const query = form.elements.namedItem("q").value.trim();
    if (!query) return;
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const params = new URLSearchParams({ q: query });
      const body = await call(`${this.api}/search?${params}`);
      results.replaceChildren(...body.items.map((found) => {
        const item = document.createElement("li");
        item.className = "item";
        const text = document.createElement("p");
        text.className = "memory-text author-text";
        text.textContent = found.text;
        const meta = document.createElement("p");
        meta.className = "item-meta";
        meta.textContent = `${HOW[found.matched_by] ?? found.matched_by} · score ${found.score.toFixed(3)}`;
        item.append(text, meta);
        return item;
      }));
      summary.textContent = body.items.length
        ? `${body.items.length} recalled for “${query}”.`
        : "Nothing would be recalled for that message.";
      showAlert(alert, null);
    } catch (error) {
      showAlert(alert, error);
    } finally {
      button.disabled = false;
    }
  }
}

for (const root of document.querySelectorAll("[data-memories]")) new MemoryPanel(root).start();
