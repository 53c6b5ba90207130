// The header's theme switch (templates/_theme_switch.html): System -> Light -> Dark, applied to
// <html> at once and saved through PATCH /api/v1/account/appearance. If saving fails, the
// page goes back to the theme that is saved and says so.

import { csrfToken } from "./forms.js";

const THEMES = ["system", "light", "dark"];
const NAMES = { system: "System", light: "Light", dark: "Dark" };
const FAILED = "Could not save the theme. Try again.";

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  document.querySelector('meta[name="color-scheme"]')
    ?.setAttribute("content", theme === "system" ? "light dark" : theme);
  const form = document.querySelector('form[data-api="/api/v1/account/appearance"]');
  for (const radio of form?.querySelectorAll('input[name="theme"]') ?? []) {
    radio.checked = radio.value === theme;
  }
}

async function saveTheme(theme) {
  const response = await fetch("/api/v1/account/appearance", {
    method: "PATCH",
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json",
               "X-CSRF-Token": csrfToken() },
    body: JSON.stringify({ theme }),
  });
  if (!response.ok) throw new Error(`appearance not saved: ${response.status}`);
  return (await response.json()).appearance.theme;
}

function setUpThemeSwitch() {
  const button = document.querySelector("button[data-theme-switch]");
  if (!button) return;
  const label = button.querySelector(".theme-name");
  const status = document.querySelector("[data-theme-status]");
  let saved = THEMES.includes(button.dataset.themeSwitch) ? button.dataset.themeSwitch : "system";
  let latest = 0;

  const show = (theme, message) => {
    button.dataset.themeSwitch = theme;
    label.textContent = NAMES[theme];
    applyTheme(theme);
    if (status) status.textContent = message;
  };

  button.addEventListener("click", async () => {
    const next = THEMES[(THEMES.indexOf(button.dataset.themeSwitch) + 1) % THEMES.length];
    const attempt = ++latest;
    show(next, `Theme: ${NAMES[next]}`);
    try {
      const stored = await saveTheme(next);
      saved = stored;
    } catch {
      if (attempt === latest) show(saved, FAILED);
    }
  });
  button.hidden = false;
}

setUpThemeSwitch();
