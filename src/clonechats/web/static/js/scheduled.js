// The chat page's "Send later" control and "Scheduled" strip.
//
// The control schedules the composer's text for a local date and time in a time zone (the
// profile's, else the browser's); the server turns it into UTC and explains times the clocks
// skip. The strip (`/chat/{id}/scheduled`, rendered by the server) lists pending, sending and
// failed items with Edit / Cancel / Dismiss; it is fetched again while something is due soon,
// and when an item has been delivered the new messages are added to the transcript from
// `/chat/{id}/tail`, already rendered as every message is.

import { csrfToken } from "./forms.js";

const NETWORK_FAILURE = "Could not reach the server. Check your connection and try again.";
const SOON_MS = 2 * 60 * 1000;

function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

// The wall-clock date and time of `instant` in `zone`: {date: "YYYY-MM-DD", time: "HH:MM"}.
function wallClock(instant, zone) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", weekday: "short",
  });
  for (const part of format.formatToParts(instant)) parts[part.type] = part.value;
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}`,
    weekday: parts.weekday };
}

function addDays(date, days) {
  const [y, m, d] = date.split("-").map(Number);
  const moved = new Date(Date.UTC(y, m - 1, d + days));
  return moved.toISOString().slice(0, 10);
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

function quickPick(name, zone) {
  const now = new Date();
  const here = wallClock(now, zone);
  if (name === "hour") return wallClock(new Date(now.getTime() + 3600 * 1000), zone);
  if (name === "evening") {
    return here.time < "20:00" ? { date: here.date, time: "20:00" }
      : { date: addDays(here.date, 1), time: "20:00" };
  }
  if (name === "tomorrow") return { date: addDays(here.date, 1), time: "09:00" };
  const today = WEEKDAYS.indexOf(here.weekday);
  const ahead = ((1 - today + 7) % 7) || 7;
  return { date: addDays(here.date, ahead), time: "09:00" };
}

async function readError(response) {
  const body = await response.json().catch(() => null);
  if (body?.error?.message) return body.error;
  return { message: `Something went wrong (HTTP ${response.status}). Please try again.` };
}

async function send(method, url, body) {
  const options = {
    method, credentials: "same-origin",
    headers: { "X-CSRF-Token": csrfToken(), Accept: "application/json" },
  };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  return fetch(url, options);
}

function localValue(date, time) {
  return `${date}T${time.length === 5 ? `${time}:00` : time}`;
}

function setUp(root) {
  const strip = root.querySelector("[data-scheduled-strip]");
  const control = root.querySelector("[data-send-later]");
  const composer = root.querySelector("[data-composer] textarea");
  const transcript = root.querySelector("[data-transcript]");
  let timer = null;
  let known = new Map();

  function showError(box, message) {
    box.textContent = message;
    box.hidden = !message;
  }

  async function addDelivered() {
    const response = await fetch(`${strip.dataset.tail}?count=2`, {
      credentials: "same-origin", headers: { Accept: "text/html" },
    }).catch(() => null);
    if (!response?.ok) return;
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    root.querySelector("[data-empty-state]")?.remove();
    for (const fresh of template.content.querySelectorAll("[data-message-id]")) {
      const id = CSS.escape(fresh.dataset.messageId);
      const old = transcript.querySelector(`[data-message-id="${id}"]`);
      if (old) old.replaceWith(fresh);
      else transcript.append(fresh);
    }
  }

  function schedulePoll() {
    clearTimeout(timer);
    const open = [...known.values()].filter((s) => s.status === "pending" || s.status === "delivering");
    if (!open.length) return;
    const soonest = Math.min(...open.map((s) => Date.parse(s.sendAt)));
    const wait = soonest - Date.now() < SOON_MS ? 2000 : 60000;
    timer = setTimeout(refresh, wait);
  }

  async function refresh() {
    const response = await fetch(strip.dataset.url, {
      credentials: "same-origin", headers: { Accept: "text/html" },
    }).catch(() => null);
    if (!response?.ok) {
      timer = setTimeout(refresh, 10000);
      return;
    }
    const focused = document.activeElement?.closest?.("[data-scheduled-id]")?.dataset.scheduledId;
    if (strip.querySelector("[data-scheduled-edit]")) {  // keep an edit form that is open
      schedulePoll();
      return;
    }
    strip.innerHTML = await response.text();
    const now = new Map();
    for (const item of strip.querySelectorAll("[data-scheduled-id]")) {
      now.set(item.dataset.scheduledId, { status: item.dataset.status, sendAt: item.dataset.sendAt });
    }
    const left = [...known.keys()].filter((id) => !now.has(id));
    known = now;
    if (left.length) await addDelivered();
    if (focused) strip.querySelector(`[data-scheduled-id="${CSS.escape(focused)}"] button`)?.focus();
    schedulePoll();
  }

  function editForm(item) {
    const form = document.createElement("form");
    form.className = "scheduled-edit";
    form.dataset.scheduledEdit = "";
    form.innerHTML = `
      <p class="notice error" role="alert" hidden></p>
      <label>Text <textarea name="text" rows="2" required></textarea></label>
      <div class="send-later-when">
        <label>Date <input type="date" name="date" required></label>
        <label>Time <input type="time" name="time" step="1" required></label>
        <span class="hint"></span>
      </div>
      <div class="scheduled-actions">
        <button type="submit">Save</button>
        <button type="button" class="secondary" data-close>Keep as it was</button>
      </div>`;
    form.elements.text.value = item.dataset.text;
    form.elements.date.value = item.dataset.localDate;
    form.elements.time.value = item.dataset.localTime;
    form.querySelector(".hint").textContent = item.dataset.timeZone;
    form.querySelector("[data-close]").addEventListener("click", () => {
      form.remove();
      refresh();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const box = form.querySelector("[role=alert]");
      const response = await send("PATCH", `/api/v1/scheduled/${item.dataset.scheduledId}`, {
        text: form.elements.text.value,
        send_at: localValue(form.elements.date.value, form.elements.time.value),
        time_zone: item.dataset.timeZone,
      }).catch(() => null);
      if (!response) return showError(box, NETWORK_FAILURE);
      if (!response.ok) return showError(box, (await readError(response)).message);
      form.remove();
      refresh();
    });
    item.append(form);
    form.elements.text.focus();
  }

  strip.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-scheduled-action]");
    if (!button) return;
    const item = button.closest("[data-scheduled-id]");
    const id = item.dataset.scheduledId;
    const action = button.dataset.scheduledAction;
    if (action === "edit") {
      if (!item.querySelector("[data-scheduled-edit]")) editForm(item);
      return;
    }
    if (action === "cancel" && !window.confirm("Cancel this scheduled message? Its text is deleted.")) return;
    button.disabled = true;
    const response = action === "cancel"
      ? await send("DELETE", `/api/v1/scheduled/${id}`).catch(() => null)
      : await send("POST", `/api/v1/scheduled/${id}/dismiss`).catch(() => null);
    if (response && !response.ok) window.alert((await readError(response)).message);
    if (!response) window.alert(NETWORK_FAILURE);
    if (response?.ok && action === "cancel" && item.dataset.kind === "reply") {
      // The unanswered question was stored with the item; cancelling deleted it too.
      const question = CSS.escape(item.dataset.userMessageId);
      transcript.querySelector(`[data-message-id="${question}"]`)?.remove();
    }
    known.delete(id);
    refresh();
  });

  if (control) {
    const form = control.querySelector("[data-send-later-form]");
    const box = control.querySelector("[data-send-later-error]");
    const zoneInput = control.querySelector("[data-send-later-zone]");
    const dateInput = control.querySelector("[data-send-later-date]");
    const timeInput = control.querySelector("[data-send-later-time]");
    const email = control.querySelector("[data-send-later-email]");
    const list = control.querySelector("datalist");
    zoneInput.value = control.dataset.userZone || browserZone();
    control.addEventListener("toggle", () => {
      if (!control.open || list.childElementCount) return;
      const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
      for (const name of zones) list.append(new Option(name, name));
    });
    for (const button of control.querySelectorAll("[data-pick]")) {
      button.addEventListener("click", () => {
        const picked = quickPick(button.dataset.pick, zoneInput.value || browserZone());
        dateInput.value = picked.date;
        timeInput.value = picked.time;
        showError(box, "");
      });
    }
    email.addEventListener("change", async () => {
      const response = await send("PATCH", "/api/v1/account/scheduling",
        { email_notice: email.checked }).catch(() => null);
      if (!response?.ok) {
        email.checked = !email.checked;
        showError(box, response ? (await readError(response)).message : NETWORK_FAILURE);
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = composer?.value.trim() || "";
      if (!text) return showError(box, "Write the message in the box first, then schedule it.");
      if (!dateInput.value || !timeInput.value) return showError(box, "Choose a date and a time, or a quick pick.");
      const submit = form.querySelector("[data-send-later-submit]");
      submit.disabled = true;
      const response = await send("POST", control.dataset.api, {
        text, kind: form.elements.kind.value,
        send_at: localValue(dateInput.value, timeInput.value), time_zone: zoneInput.value.trim(),
      }).catch(() => null);
      submit.disabled = false;
      if (!response) return showError(box, NETWORK_FAILURE);
      if (!response.ok) return showError(box, (await readError(response)).message);
      showError(box, "");
      const { scheduled } = await response.json();
      composer.value = "";
      control.open = false;
      control.dataset.userZone = zoneInput.value;
      if (scheduled.kind === "reply") await addDelivered();
      await refresh();
      strip.querySelector(`[data-scheduled-id="${CSS.escape(scheduled.id)}"] button`)?.focus();
    });
  }

  refresh();
}

for (const root of document.querySelectorAll("[data-chat]")) setUp(root);
