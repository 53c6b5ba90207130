// Shared pieces of the voice features: playing a reply's clips in order, recording from the
// microphone with a level meter, transcribing a recording, and reading Server-Sent Events.

import { csrfToken } from "./forms.js";

// Plays clips in their `seq` order as they arrive, one after another; `stop()` silences it.
export class AudioQueue {
  constructor({ onStart, onIdle } = {}) {
    this.pending = new Map();
    this.next = 0;
    this.current = null;
    this.onStart = onStart || (() => {});
    this.onIdle = onIdle || (() => {});
    this.finished = false;
  }

  reset() {
    this.stop();
    this.pending.clear();
    this.next = 0;
    this.finished = false;
  }

  add(seq, url) {
    this.pending.set(seq, url);
    if (!this.current) this.playNext();
  }

  // No more clips will come for this reply (after `done`, `error` or `audio_error`).
  end() {
    this.finished = true;
    if (!this.current) this.onIdle();
  }

  get playing() {
    return Boolean(this.current);
  }

  playNext() {
    const url = this.pending.get(this.next);
    if (url === undefined) {
      this.current = null;
      if (this.finished || this.pending.size === 0) this.onIdle();
      return;
    }
    this.pending.delete(this.next);
    this.next += 1;
    const audio = new Audio(url);
    this.current = audio;
    document.dispatchEvent(new CustomEvent("voice:audio", { detail: audio }));  // video-avatar.js
    const advance = () => {
      if (this.current === audio) this.playNext();
    };
    audio.addEventListener("ended", advance);
    audio.addEventListener("error", advance);
    this.onStart();
    audio.play().catch(advance);
  }

  stop() {
    const audio = this.current;
    this.current = null;
    if (audio) {
      audio.pause();
      audio.removeAttribute("src");
    }
    this.pending.clear();
  }
}

// The microphone: `start()` asks for it, `level()` is the loudness now (0..1),
// `stop()` resolves to the recording (a Blob), `cancel()` throws it away.
export class Recorder {
  constructor() {
    this.stream = null;
    this.recorder = null;
    this.chunks = [];
    this.analyser = null;
    this.context = null;
    this.samples = null;
  }

  async open() {
    if (this.stream) return;
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new Error("This browser cannot record audio.");
    }
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
    });
    this.context = new AudioContext();
    const source = this.context.createMediaStreamSource(this.stream);
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 1024;
    this.samples = new Float32Array(this.analyser.fftSize);
    source.connect(this.analyser);
  }

  level() {
    if (!this.analyser) return 0;
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const value of this.samples) sum += value * value;
    return Math.min(1, Math.sqrt(sum / this.samples.length) * 4);
  }

  get recording() {
    return this.recorder?.state === "recording";
  }

  async start() {
    await this.open();
    this.chunks = [];
    const type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4"]
      .find((candidate) => window.MediaRecorder?.isTypeSupported?.(candidate));
    this.recorder = new MediaRecorder(this.stream, type ? { mimeType: type } : undefined);
    this.recorder.addEventListener("dataavailable", (event) => {
      if (event.data.size) this.chunks.push(event.data);
    });
    this.recorder.start();
  }

  stop() {
    return new Promise((resolve) => {
      if (!this.recorder || this.recorder.state === "inactive") {
        resolve(null);
        return;
      }
      this.recorder.addEventListener("stop", () => {
        resolve(new Blob(this.chunks, { type: this.recorder.mimeType || "audio/webm" }));
      }, { once: true });
      this.recorder.stop();
    });
  }

  async cancel() {
    await this.stop();
    this.chunks = [];
  }

  close() {
    for (const track of this.stream?.getTracks() || []) track.stop();
    this.context?.close().catch(() => {});
    this.stream = null;
    this.analyser = null;
  }
}

export async function transcribe(blob) {
  const body = new FormData();
  body.append("file", blob, "speech");
  const response = await fetch("/api/v1/speech/transcribe", {
    method: "POST", credentials: "same-origin", body,
    headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(data?.error?.message || `The recording could not be transcribed (HTTP ${response.status}).`);
  }
  return data;
}

export function parseEvent(raw) {
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

// Every event of an SSE response body, as {name, data}, to `onEvent`.
export async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      onEvent(parseEvent(buffer.slice(0, end)));
      buffer = buffer.slice(end + 2);
    }
  }
}
