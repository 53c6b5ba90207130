// Debate pages: the new-debate form, and a room followed live (owner's page or public page).
//
// The room page shows the turns the server rendered, then follows the room's events with
// EventSource from the seq the page was rendered at (`data-after`); EventSource resumes by
// Last-Event-ID on its own after a network drop. Events are applied idempotently: a `turn`
// event for a turn already on the page starts its text afresh (a turn resumed after a server
// died), and `turn_end` sets the final, moderated text. Every text is set with textContent.

import { csrfToken } from "./forms.js";

const NETWORK_FAILURE = "Could not reach the server. Check your connection and try again.";
const ENDED = new Set(["finished", "stopped", "failed"]);
const STATUS_LABELS = { ready: "Ready to start", running: "Live", finished: "Finished",
  stopped: "Stopped", failed: "Failed" };
const REASONS = {
  insufficient_credits: "The credits ran out, so the debate stopped.",
  provider_unavailable: "The model was not available, so the debate stopped.",
};

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function send(method, url, body) {
  let response;
  try {
    response = await fetch(url, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, error: { message: NETWORK_FAILURE } };
  }
  const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (!response.ok) {
    return { ok: false, status: response.status, error: data.error || {
      message: `Something went wrong (HTTP ${response.status}). Please try again.` } };
  }
  return { ok: true, data };
}

function setUpNewRoom(form) {
  const errorBox = form.querySelector("[data-form-error]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    const chosen = [...form.querySelectorAll("input[name=persona_ids]:checked")].map((i) => i.value);
    const words = form.elements.max_turn_words.value;
    const body = {
      kind: "debate", topic: form.elements.topic.value, persona_ids: chosen,
      rounds: Number(form.elements.rounds.value),
      moderator: form.querySelector("input[name=moderator]:checked")?.value || "auto",
    };
    if (words) body.max_turn_words = Number(words);
    let problem = null;
    if (!body.topic.trim()) problem = "Give the debate a topic.";
    else if (chosen.length < 2 || chosen.length > 4) problem = "Choose two to four speakers.";
    if (problem) {
      errorBox.textContent = problem;
      errorBox.hidden = false;
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const result = await send("POST", "/api/v1/rooms", body);
    button.disabled = false;
    if (!result.ok) {
      errorBox.textContent = result.error.message;
      errorBox.hidden = false;
      return;
    }
    window.location.assign(`/rooms/${encodeURIComponent(result.data.room.id)}`);
  });
}

function setUpRoom(root) {
  const api = root.dataset.api;
  const isPublic = root.dataset.public !== undefined;
  const transcript = root.querySelector("[data-transcript]");
  const empty = root.querySelector("[data-room-empty]");
  const errorBox = root.querySelector("[data-room-error]");
  const speakers = new Map();
  for (const item of root.querySelectorAll("[data-speakers] > li")) {
    const key = isPublic ? item.dataset.index : item.dataset.personaId;
    speakers.set(key, { name: item.dataset.name, initials: item.dataset.initials,
      index: Number(item.dataset.index) });
  }
  let status = root.dataset.status;
  let source = null;

  function showError(message) {
    if (!errorBox) return;
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function label(speaker) {
    if (speaker.type === "persona") {
      const key = isPublic ? String(speaker.index) : speaker.persona_id;
      const found = speakers.get(key) || { name: speaker.name || "A speaker", initials: "?", index: 0 };
      return { ...found, cls: `speaker-${found.index % 4}` };
    }
    if (speaker.type === "moderator") return { name: "Moderator", initials: "M", cls: "speaker-moderator" };
    const host = isPublic ? "Host" : (root.dataset.moderator === "user" ? "You (moderator)" : "You");
    return { name: host, initials: isPublic ? "H" : "Y", cls: "speaker-user" };
  }

  function turnNode(data) {
    let node = transcript.querySelector(`[data-turn-id="${CSS.escape(data.turn_id)}"]`);
    if (!node) {
      const who = label(data.speaker);
      node = element("li", `turn turn-${data.speaker.type} turn-kind-${data.kind || "argument"}`);
      node.dataset.turnId = data.turn_id;
      const avatar = element("span", `speaker-avatar ${who.cls}`, who.initials);
      avatar.setAttribute("aria-hidden", "true");
      const main = element("div", "turn-main");
      const meta = element("div", "turn-meta");
      meta.append(element("span", "turn-speaker", who.name));
      if (data.round) meta.append(element("span", "turn-round", `Round ${data.round}`));
      const text = element("p", "turn-text");
      text.dataset.turnText = "";
      main.append(meta, text);
      node.append(avatar, main);
      transcript.append(node);
    }
    return node;
  }

  function setTurnStatus(node, turnStatus) {
    node.className = node.className.replace(/\bstatus-\S+/g, "").trim() + ` status-${turnStatus}`;
    node.dataset.status = turnStatus;
    const meta = node.querySelector(".turn-meta");
    meta.querySelector(".badge")?.remove();
    const badges = { blocked: ["Withheld", "badge danger"], stopped: ["Stopped", "badge"],
      failed: ["No answer", "badge danger"] };
    if (badges[turnStatus]) meta.append(element("span", badges[turnStatus][1], badges[turnStatus][0]));
  }

  function showStatus(next, reason, message) {
    status = next;
    root.dataset.status = next;
    const badge = root.querySelector("[data-room-status]");
    if (badge) {
      badge.textContent = STATUS_LABELS[next] || next;
      badge.className = `badge room-status status-${next}`;
    }
    const reasonBox = root.querySelector("[data-room-reason]");
    if (reasonBox && (message || REASONS[reason])) {
      reasonBox.textContent = message || REASONS[reason];
      reasonBox.hidden = false;
    }
    const toggle = (selector, shown) => {
      for (const node of root.querySelectorAll(selector)) node.hidden = !shown;
    };
    toggle("[data-action=start]", next === "ready");
    toggle("[data-interject]", next === "running");
    toggle("[data-action=stop]", next === "ready" || next === "running");
    toggle("[data-moderator-controls]", next === "running");
    const verdictShown = !root.querySelector("[data-verdict]")?.hidden;
    toggle("[data-action=verdict]", (next === "finished" || next === "stopped") && !verdictShown);
  }

  async function refreshCost() {
    if (isPublic) return;
    const result = await fetch(api, { credentials: "same-origin" }).catch(() => null);
    if (!result?.ok) return;
    const room = (await result.json()).room;
    const cost = root.querySelector("[data-room-cost]");
    if (cost) cost.textContent = String(room.credits_charged);
    const me = await fetch("/api/v1/auth/me", { credentials: "same-origin" }).catch(() => null);
    if (me?.ok) {
      const balance = root.querySelector("[data-balance]");
      if (balance) balance.textContent = String((await me.json()).user.credits);
    }
  }

  const handlers = {
    turn(data) {
      if (empty) empty.hidden = true;
      const node = turnNode(data);
      node.querySelector("[data-turn-text]").textContent = "";
      setTurnStatus(node, "streaming");
    },
    token(data) {
      const node = transcript.querySelector(`[data-turn-id="${CSS.escape(data.turn_id)}"]`);
      if (!node) return;
      node.querySelector("[data-turn-text]").append(document.createTextNode(data.text));
      if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 120) {
        node.scrollIntoView({ block: "end" });
      }
    },
    turn_end(data) {
      const node = transcript.querySelector(`[data-turn-id="${CSS.escape(data.turn_id)}"]`);
      if (!node) return;
      node.querySelector("[data-turn-text]").textContent = data.text;
      setTurnStatus(node, data.status);
      refreshCost();
    },
    summary(data) {
      const box = root.querySelector("[data-summary]");
      box.querySelector("[data-summary-text]").textContent = data.text;
      box.hidden = false;
    },
    verdict(data) {
      if (data.text) {
        const box = root.querySelector("[data-verdict]");
        box.querySelector("[data-verdict-text]").textContent = data.text;
        box.hidden = false;
        for (const button of root.querySelectorAll("[data-action=verdict]")) button.hidden = true;
      } else {
        showError(data.error || "A verdict could not be written.");
        for (const button of root.querySelectorAll("[data-action=verdict]")) {
          button.hidden = false;
          button.disabled = false;
        }
      }
    },
    status(data) {
      showStatus(data.status, data.reason, data.message);
      refreshCost();
    },
  };

  function follow() {
    if (source) return;
    const url = new URL(root.dataset.events, window.location.href);
    if (root.dataset.after) url.searchParams.set("last_event_id", root.dataset.after);
    source = new EventSource(url);
    for (const [name, handle] of Object.entries(handlers)) {
      source.addEventListener(name, (event) => {
        if (event.lastEventId) root.dataset.after = event.lastEventId;
        try {
          handle(JSON.parse(event.data));
        } catch (error) {
          showError("The live view could not show an update; reload the page.");
          throw error;
        }
      });
    }
    source.addEventListener("end", () => {
      source.close();
      source = null;
      root.dataset.closed = "true";
    });
  }

  async function act(action, body) {
    showError("");
    const result = await send("POST", `${api}/${action}`, body);
    if (!result.ok) {
      showError(result.error.message);
      if (result.error.code === "insufficient_credits") {
        showError(`${result.error.message} `);
        errorBox.append(Object.assign(element("a", "", "Buy credits"), { href: "/pricing" }));
      }
      return null;
    }
    if (result.data.room) showStatus(result.data.room.status);
    follow();
    return result.data;
  }

  if (!isPublic) {
    root.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button || !root.contains(button)) return;
      const persona = button.dataset.persona;
      const action = button.dataset.action;
      button.disabled = true;
      try {
        if (action === "start" || action === "stop") await act(action);
        else if (action === "verdict") {
          if (await act("verdict")) button.hidden = true;
        } else if (action === "floor") await act("floor", { persona_id: persona });
        else if (action === "mute") {
          const muted = button.dataset.muted !== "true";
          const data = await act("mute", { persona_id: persona, muted });
          if (data) {
            button.dataset.muted = String(muted);
            button.textContent = muted ? "Unmute" : "Mute";
            button.closest("li").querySelector("[data-muted-badge]").hidden = !muted;
          }
        } else if (action === "warn") {
          const text = window.prompt("Warning to this speaker (optional):", "") ;
          if (text !== null) await act("warn", { persona_id: persona, text });
        } else if (action === "share") {
          const result = await send("POST", `${api}/share`);
          if (!result.ok) showError(result.error.message);
          else {
            root.querySelector("#share-url").value = result.data.url;
            root.querySelector("[data-share-box]").hidden = false;
            root.querySelector("[data-action=unshare]").hidden = false;
            button.textContent = "New link";
          }
        } else if (action === "unshare") {
          const result = await send("DELETE", `${api}/share`);
          if (!result.ok) showError(result.error.message);
          else {
            root.querySelector("[data-share-box]").hidden = true;
            button.hidden = true;
          }
        } else if (action === "delete") {
          if (window.confirm("Delete this debate and its transcript? This cannot be undone.")) {
            const result = await send("DELETE", api);
            if (result.ok) window.location.assign("/rooms");
            else showError(result.error.message);
          }
        }
      } finally {
        button.disabled = false;
      }
    });
    const form = root.querySelector("[data-interject]");
    const textarea = form?.querySelector("textarea");
    form?.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!textarea.value.trim()) return;
      const sent = await act("interject", { text: textarea.value });
      if (sent) textarea.value = "";
    });
    textarea?.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  if (root.dataset.closed !== "true" && status !== "ready") follow();
  else if (status === "ready" && isPublic) follow();
}

const newRoom = document.querySelector("[data-new-room]");
if (newRoom) setUpNewRoom(newRoom);
const room = document.querySelector("[data-room]");
if (room) setUpRoom(room);
