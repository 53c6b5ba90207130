// Video replies in the chat page: "Reply as video" on persona messages, live progress from
// the job's event stream, Cancel, and the finished clip playing inline with its poster (Keep
// saves it past the 90-day retention). Videos made earlier are shown when the page loads.

import { csrfToken } from "./forms.js";

const ACTIVE = new Set(["queued", "rendering"]);
const LABELS = { queued: "Waiting to start…", rendering: "Making the video…" };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function call(method, url, body) {
  const response = await fetch(url, {
    method, credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json",
               "X-CSRF-Token": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch(() => null);
  const data = response ? await response.json().catch(() => null) : null;
  return { ok: Boolean(response?.ok), status: response?.status || 0, data };
}

function setUpVideo(root) {
  const transcript = root.querySelector("[data-transcript]");
  const streams = new Map();

  const slotOf = (item) => item.querySelector("[data-video-slot]");
  const buttonOf = (item) => item.querySelector("button[data-action=video]");

  function showError(item, error, status) {
    const slot = slotOf(item);
    slot.replaceChildren();
    const note = el("p", "notice error", error?.message || "The video could not be made.");
    note.setAttribute("role", "alert");
    slot.append(note);
    if (status === 402) {
      const link = el("a", "", "See plans and credits");
      link.href = "/pricing";
      slot.append(link);
    }
    slot.hidden = false;
    const button = buttonOf(item);
    if (button) button.disabled = false;
  }

  function showProgress(item, job) {
    const slot = slotOf(item);
    let bar = slot.querySelector("progress");
    if (!bar) {
      slot.replaceChildren();
      const row = el("div", "video-progress");
      bar = el("progress");
      bar.max = 1;
      bar.setAttribute("aria-label", "Video progress");
      const label = el("span", "video-status");
      label.setAttribute("aria-live", "polite");
      const cancel = el("button", "link-button", "Cancel");
      cancel.type = "button";
      cancel.dataset.videoCancel = job.id;
      row.append(bar, label, cancel);
      slot.append(row);
    }
    bar.value = job.progress;
    slot.querySelector(".video-status").textContent =
      `${LABELS[job.status] || ""} ${Math.round(job.progress * 100)}%`;
    slot.hidden = false;
  }

  function showClip(item, clip) {
    const slot = slotOf(item);
    slot.replaceChildren();
    const video = el("video");
    video.controls = true;
    video.preload = "metadata";
    video.playsInline = true;
    if (clip.poster_url) video.poster = clip.poster_url;
    video.src = clip.url;
    video.setAttribute("aria-label", "Video reply");
    const tools = el("div", "video-tools");
    const keep = el("button", "link-button", clip.saved ? "Kept (undo)" : "Keep");
    keep.type = "button";
    keep.title = "Unkept videos are deleted 90 days after they were made.";
    keep.addEventListener("click", async () => {
      const result = await call("PATCH", `/api/v1/clips/${encodeURIComponent(clip.id)}`,
                                { saved: !clip.saved });
      if (result.ok) {
        clip.saved = result.data.clip.saved;
        keep.textContent = clip.saved ? "Kept (undo)" : "Keep";
      }
    });
    const download = el("a", "", "Download");
    download.href = clip.url;
    download.download = "video-reply.mp4";
    tools.append(keep, download);
    slot.append(video, tools);
    slot.hidden = false;
    const button = buttonOf(item);
    if (button) button.hidden = true;
  }

  function show(item, job) {
    if (job.status === "done" && job.clip) showClip(item, job.clip);
    else if (ACTIVE.has(job.status)) showProgress(item, job);
    else if (job.status === "failed") showError(item, job.error);
    else if (job.status === "cancelled") {
      slotOf(item).replaceChildren(el("p", "hint", "Video cancelled."));
      const button = buttonOf(item);
      if (button) button.disabled = false;
    }
  }

  function follow(item, job) {
    show(item, job);
    if (!ACTIVE.has(job.status) || streams.has(job.id)) return;
    const source = new EventSource(`/api/v1/video-jobs/${encodeURIComponent(job.id)}/events`);
    streams.set(job.id, source);
    source.addEventListener("progress", (event) => {
      const current = JSON.parse(event.data).job;
      show(item, current);
      if (!ACTIVE.has(current.status)) {
        source.close();
        streams.delete(job.id);
      }
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) streams.delete(job.id);
    };
  }

  transcript.addEventListener("click", async (event) => {
    const cancel = event.target.closest("button[data-video-cancel]");
    if (cancel) {
      cancel.disabled = true;
      const result = await call("DELETE", `/api/v1/video-jobs/${encodeURIComponent(cancel.dataset.videoCancel)}`);
      const item = cancel.closest("[data-message-id]");
      if (result.ok) {
        streams.get(result.data.job.id)?.close();
        streams.delete(result.data.job.id);
        show(item, result.data.job);
      } else {
        cancel.disabled = false;
        if (result.data?.error) showError(item, result.data.error, result.status);
      }
      return;
    }
    const button = event.target.closest("button[data-action=video]");
    if (!button) return;
    const item = button.closest("[data-message-id]");
    button.disabled = true;
    const result = await call("POST", `/api/v1/messages/${encodeURIComponent(item.dataset.messageId)}/video`);
    if (!result.ok) {
      showError(item, result.data?.error || { message: "The video could not be requested. Check your connection." }, result.status);
      return;
    }
    follow(item, result.data.job);
  });

  const conversation = root.dataset.conversationId;
  call("GET", `/api/v1/video-jobs?conversation_id=${encodeURIComponent(conversation)}`).then((result) => {
    if (!result.ok) return;
    for (const job of result.data.items) {
      const item = transcript.querySelector(`[data-message-id="${CSS.escape(job.message_id)}"]`);
      if (item && job.status !== "cancelled") follow(item, job);
    }
  });
  window.addEventListener("pagehide", () => streams.forEach((source) => source.close()));
}

const root = document.querySelector("[data-chat]");
if (root) setUpVideo(root);
