// Voice in the chat page: Play on persona messages, spoken replies while they stream
// ("Speak replies"), and the microphone (hold to talk, or tap to start and tap to stop; a level
// meter; Cancel). The transcript lands in the message box for review, or is sent at once when
// "Send when I stop talking" is on. Both choices are kept in this browser (localStorage).
// chat.js asks `root.chatHooks.sendOptions()` for extra send fields and dispatches
// `chat:event` for the SSE events it does not handle itself (`audio`, `audio_error`).

import { csrfToken } from "./forms.js";
import { AudioQueue, Recorder, transcribe } from "./voice-audio.js";

const HOLD_MS = 350;

function remember(checkbox, key) {
  if (!checkbox) return;
  checkbox.checked = localStorage.getItem(key) === "1";
  checkbox.addEventListener("change", () => localStorage.setItem(key, checkbox.checked ? "1" : "0"));
}

function setUpVoice(root) {
  const transcript = root.querySelector("[data-transcript]");
  const form = root.querySelector("[data-composer]");
  const textarea = form?.querySelector("textarea");
  const speakBox = root.querySelector("[data-speak-replies]");
  const autoSend = root.querySelector("[data-auto-send]");
  const mic = root.querySelector("[data-mic]");
  const micCancel = root.querySelector("[data-mic-cancel]");
  const meter = root.querySelector("[data-mic-level]");
  const micStatus = root.querySelector("[data-mic-status]");
  const errorBox = root.querySelector("[data-chat-error]");
  remember(speakBox, "voice.speakReplies");
  remember(autoSend, "voice.autoSend");

  const queue = new AudioQueue();
  let playButton = null;

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  root.chatHooks = {
    sendOptions() {
      queue.reset();
      return speakBox?.checked ? { speak: true } : {};
    },
  };

  root.addEventListener("chat:event", (event) => {
    const { name, data } = event.detail;
    if (name === "audio" && data) queue.add(data.seq, data.url);
    else if (name === "audio_error" && data) {
      showError(data.message);
      queue.end();
    } else if (name === "done" || name === "error") queue.end();
  });

  function resetPlay() {
    if (playButton) playButton.textContent = "Play";
    playButton = null;
  }

  async function play(item, button) {
    if (playButton === button) {
      queue.stop();
      resetPlay();
      return;
    }
    queue.reset();
    resetPlay();
    playButton = button;
    button.textContent = "Loading…";
    const response = await fetch(`/api/v1/messages/${encodeURIComponent(item.dataset.messageId)}/speech`, {
      method: "POST", credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
    }).catch(() => null);
    const body = response ? await response.json().catch(() => null) : null;
    if (!response?.ok || !body?.clip) {
      resetPlay();
      showError(body?.error?.message || "Audio is unavailable right now; the text is still here.");
      return;
    }
    if (playButton !== button) return;
    button.textContent = "Stop";
    queue.onIdle = () => resetPlay();
    queue.add(0, body.clip.url);
    queue.end();
  }

  transcript.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action=play]");
    if (!button) return;
    const item = button.closest("[data-message-id]");
    if (item) play(item, button);
  });

  if (!mic || !textarea) return;
  const recorder = new Recorder();
  let pressedAt = 0;
  let meterFrame = 0;

  function setMicState(state, text) {
    mic.dataset.state = state;
    mic.setAttribute("aria-pressed", String(state === "recording"));
    mic.textContent = state === "recording" ? "Stop recording" : "Speak";
    micCancel.hidden = state !== "recording";
    meter.hidden = state !== "recording";
    micStatus.textContent = text || "";
  }

  function showLevel() {
    meter.value = recorder.level();
    meterFrame = requestAnimationFrame(showLevel);
  }

  async function startRecording() {
    try {
      await recorder.start();
    } catch (error) {
      setMicState("idle", error?.name === "NotAllowedError"
        ? "Microphone access was refused. Allow it in the browser to talk."
        : (error?.message || "The microphone could not be opened."));
      return;
    }
    setMicState("recording", "Listening… release or press again to stop.");
    showLevel();
  }

  async function finishRecording() {
    cancelAnimationFrame(meterFrame);
    const blob = await recorder.stop();
    if (!blob) return;
    setMicState("working", "Transcribing…");
    try {
      const result = await transcribe(blob);
      textarea.value = textarea.value ? `${textarea.value.trimEnd()} ${result.text}` : result.text;
      setMicState("idle", "");
      if (autoSend?.checked) form.requestSubmit();
      else textarea.focus();
    } catch (error) {
      setMicState("idle", error.message);
    }
  }

  // Hold to talk (a press of HOLD_MS or more ends the recording on release), or tap to start
  // and tap again to stop; Enter or Space on the button toggles too.
  let pressStarted = false;
  let swallowClick = false;
  mic.addEventListener("pointerdown", async (event) => {
    if (event.button !== 0 || recorder.recording) return;
    pressedAt = Date.now();
    pressStarted = true;
    await startRecording();
  });
  mic.addEventListener("pointerup", () => {
    if (pressStarted && Date.now() - pressedAt >= HOLD_MS && recorder.recording) {
      pressStarted = false;
      swallowClick = true;
      finishRecording();
    }
  });
  mic.addEventListener("click", (event) => {
    if (swallowClick) {
      swallowClick = false;
    } else if (pressStarted) {
      pressStarted = false;  // the tap that started this recording: keep recording
    } else if (recorder.recording) {
      finishRecording();
    } else if (event.detail === 0) {
      startRecording();
    }
  });
  micCancel.addEventListener("click", async () => {
    cancelAnimationFrame(meterFrame);
    await recorder.cancel();
    setMicState("idle", "Recording discarded.");
  });
  window.addEventListener("pagehide", () => recorder.close());
}

const root = document.querySelector("[data-chat]");
if (root) setUpVoice(root);
