// The persona editor's Voice card: the voice list (GET /api/v1/voices, grouped by language),
// the speaking rate, a preview (POST /api/v1/voices/preview, played at once, not stored) and
// saving the choice (PATCH /api/v1/personas/{id} {voice: {voice_id, rate}}).

import { csrfToken } from "./forms.js";

const LANGUAGES = { en: "English", es: "Spanish", fr: "French", hi: "Hindi", de: "German",
  pt: "Portuguese", mul: "Many languages" };

function languageName(code) {
  const base = (code || "").split("-")[0];
  return LANGUAGES[base] || code;
}

async function errorOf(response) {
  const body = await response.json().catch(() => null);
  return body?.error?.message || `Something went wrong (HTTP ${response.status}).`;
}

function setUp(root) {
  const form = root.querySelector("[data-voice-form]");
  const select = form.querySelector("select");
  const rate = form.querySelector("input[name=rate]");
  const rateValue = form.querySelector("[data-rate-value]");
  const previewButton = form.querySelector("[data-voice-preview]");
  const loading = root.querySelector("[data-voice-loading]");
  const alertBox = form.querySelector("[role=alert]");
  const statusBox = form.querySelector("[role=status]");
  const personaId = root.dataset.personaId;
  let player = null;

  function say(box, text) {
    alertBox.hidden = true;
    statusBox.hidden = true;
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
  }

  rate.addEventListener("input", () => {
    rateValue.textContent = `${Number(rate.value).toFixed(2)}×`;
  });

  async function loadVoices() {
    const response = await fetch("/api/v1/voices", { credentials: "same-origin" }).catch(() => null);
    if (!response?.ok) {
      loading.textContent = "The voices could not be loaded. Reload the page to try again.";
      return;
    }
    const groups = new Map();
    for (const voice of (await response.json()).items) {
      const name = voice.kind === "cloned" ? "Cloned voices" : languageName(voice.language);
      if (!groups.has(name)) groups.set(name, []);
      groups.get(name).push(voice);
    }
    for (const [name, voices] of groups) {
      const group = document.createElement("optgroup");
      group.label = name;
      for (const voice of voices) {
        const option = new Option(voice.label, voice.id);
        option.selected = voice.id === root.dataset.voiceId;
        group.append(option);
      }
      select.append(group);
    }
    const count = [...groups.values()].reduce((total, list) => total + list.length, 0);
    loading.textContent = `${count} voices on this server. “Server default” follows the operator's choice.`;
  }

  previewButton.addEventListener("click", async () => {
    const label = previewButton.textContent;
    previewButton.disabled = true;
    previewButton.textContent = previewButton.dataset.busyLabel;
    say(null);
    try {
      const voiceId = select.value || select.querySelector("optgroup option")?.value;
      const response = await fetch("/api/v1/voices/preview", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ voice_id: voiceId, rate: Number(rate.value), persona_id: personaId }),
      });
      if (!response.ok) {
        say(alertBox, await errorOf(response));
        return;
      }
      player?.pause();
      player = new Audio(URL.createObjectURL(await response.blob()));
      await player.play().catch(() => say(alertBox, "The browser did not play the preview."));
    } catch {
      say(alertBox, "Could not reach the server. Check your connection and try again.");
    } finally {
      previewButton.disabled = false;
      previewButton.textContent = label;
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say(null);
    const response = await fetch(`/api/v1/personas/${encodeURIComponent(personaId)}`, {
      method: "PATCH", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ voice: { voice_id: select.value, rate: Number(rate.value) } }),
    }).catch(() => null);
    if (!response) say(alertBox, "Could not reach the server. Check your connection and try again.");
    else if (!response.ok) say(alertBox, await errorOf(response));
    else say(statusBox, "Voice saved.");
  });

  loadVoices();
}

for (const root of document.querySelectorAll("[data-voice-settings]")) setUp(root);
