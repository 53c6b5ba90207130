// The hands-free voice call: listen → (a pause ends the turn) → transcribe → send with
// `speak: true` → play the reply's clips as they stream → listen again. Talking over the
// persona (barge-in) stops the playback and the reply, and starts a new turn.
// States, always shown: idle, listening, hearing, thinking, speaking, paused.

import { csrfToken } from "./forms.js";
import { AudioQueue, Recorder, readEvents, transcribe } from "./voice-audio.js";

const END_OF_TURN_MS = 900;     // this much quiet after speech ends the user's turn
const MIN_SPEECH_MS = 250;      // shorter sounds are noise
const BARGE_IN_MS = 300;        // talking this long over the persona interrupts it
const LABELS = {
  idle: "Not started", listening: "Listening…", hearing: "Hearing you…",
  thinking: "Thinking…", speaking: "Speaking…", paused: "Paused",
};

function setUpCall(root) {
  const api = root.dataset.api;
  const maxMs = Number(root.dataset.maxSeconds || 60) * 1000;
  const panel = root.querySelector(".call-state");
  const stateLabel = root.querySelector("[data-call-state]");
  const levelMeter = root.querySelector("[data-call-level]");
  const youLine = root.querySelector("[data-call-you]");
  const personaLine = root.querySelector("[data-call-persona]");
  const errorBox = root.querySelector("[data-call-error]");
  const toggle = root.querySelector("[data-call-toggle]");
  const stopSpeaking = root.querySelector("[data-call-stop-speaking]");
  const endLink = root.querySelector("[data-call-end]");

  const recorder = new Recorder();
  let state = "idle";
  let noise = 0.02;
  let speechStart = 0;
  let lastVoice = 0;
  let turnStart = 0;
  let reply = null;  // {controller, messageId, done}
  let frame = 0;

  const queue = new AudioQueue({
    onIdle: () => {
      if (state === "speaking" && reply?.done) listen();
    },
  });

  function setState(next) {
    state = next;
    panel.dataset.state = next;
    stateLabel.textContent = LABELS[next];
    toggle.textContent = next === "idle" ? "Start call" : (next === "paused" ? "Resume call" : "Pause call");
    stopSpeaking.hidden = next !== "speaking";
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  async function listen() {
    setState("listening");
    speechStart = 0;
    lastVoice = 0;
    turnStart = Date.now();
    if (recorder.recording) await recorder.cancel();
    await recorder.start();
  }

  function threshold() {
    return Math.max(0.04, noise * 3);
  }

  function tick() {
    frame = requestAnimationFrame(tick);
    const level = recorder.level();
    levelMeter.value = level;
    const now = Date.now();
    const loud = level > threshold();
    if (!loud) noise = noise * 0.995 + level * 0.005;
    if (state === "listening" || state === "hearing") {
      if (loud) {
        if (!speechStart) speechStart = now;
        lastVoice = now;
        if (now - speechStart >= MIN_SPEECH_MS) setState("hearing");
      } else if (speechStart && now - lastVoice > END_OF_TURN_MS) {
        if (state === "hearing") endTurn();
        else speechStart = 0;  // a short noise, not speech
      }
      if (state === "hearing" && now - turnStart > maxMs - 500) endTurn();
      if (state === "listening" && now - turnStart > 20000) listen();  // keep recordings short
    } else if (state === "speaking") {
      if (level > Math.max(0.15, threshold() * 2)) {
        if (!speechStart) speechStart = now;
        if (now - speechStart >= BARGE_IN_MS) bargeIn();
      } else {
        speechStart = 0;
      }
    }
  }

  async function endTurn() {
    setState("thinking");
    const blob = await recorder.stop();
    if (!blob) return listen();
    let heard;
    try {
      heard = await transcribe(blob);
    } catch (error) {
      showError(error.message);
      return listen();
    }
    showError("");
    youLine.textContent = `You: ${heard.text}`;
    await send(heard.text);
  }

  async function send(text) {
    const controller = new AbortController();
    reply = { controller, messageId: null, done: false };
    const current = reply;
    queue.reset();
    personaLine.textContent = "";
    let response;
    try {
      response = await fetch(`${api}/messages`, {
        method: "POST", credentials: "same-origin", signal: controller.signal,
        headers: { "Content-Type": "application/json", Accept: "text/event-stream",
          "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ text, speak: true }),
      });
    } catch {
      response = null;
    }
    if (!response?.ok) {
      const body = response ? await response.json().catch(() => null) : null;
      showError(body?.error?.message || "Could not reach the server. Check your connection.");
      if (state === "thinking") listen();
      return;
    }
    current.messageId = response.headers.get("X-Message-Id");
    await recorder.start();  // listen for barge-in while the persona speaks
    try {
      await readEvents(response, ({ name, data }) => {
        if (current !== reply || !data) return;
        if (name === "token") personaLine.textContent += data.text;
        else if (name === "audio") {
          if (state === "thinking") setState("speaking");
          queue.add(data.seq, data.url);
        } else if (name === "audio_error") showError(data.message);
        else if (name === "error") showError(data.message);
      });
    } catch {
      // aborted by a barge-in or the page going away
    }
    if (current !== reply) return;
    current.done = true;
    queue.end();
    if (state === "thinking" || (state === "speaking" && !queue.playing)) listen();
  }

  async function stopReply() {
    const current = reply;
    reply = null;
    queue.stop();
    if (current && !current.done && current.messageId) {
      await fetch(`${api}/messages/${encodeURIComponent(current.messageId)}/stop`, {
        method: "POST", credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
      }).catch(() => null);
    }
    current?.controller.abort();
  }

  async function bargeIn() {
    await stopReply();
    setState("hearing");
    speechStart = Date.now();
    lastVoice = speechStart;
    turnStart = speechStart;
    if (recorder.recording) await recorder.cancel();
    await recorder.start();
  }

  async function start() {
    showError("");
    try {
      await recorder.open();
    } catch (error) {
      showError(error?.name === "NotAllowedError"
        ? "Microphone access was refused. Allow it in the browser to call."
        : (error?.message || "The microphone could not be opened."));
      return;
    }
    await listen();
    cancelAnimationFrame(frame);
    tick();
  }

  async function pause() {
    cancelAnimationFrame(frame);
    await stopReply();
    if (recorder.recording) await recorder.cancel();
    setState("paused");
  }

  toggle.addEventListener("click", () => {
    if (state === "idle" || state === "paused") start();
    else pause();
  });
  stopSpeaking.addEventListener("click", () => {
    stopReply().then(() => listen());
  });
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select")) return;
    if (event.key === " " && event.target === document.body) {
      event.preventDefault();
      toggle.click();
    } else if (event.key === "Escape") {
      endLink.click();
    }
  });
  window.addEventListener("pagehide", () => {
    stopReply();
    recorder.close();
  });
  setState("idle");
}

const root = document.querySelector("[data-voice-call]");
if (root) setUpCall(root);
