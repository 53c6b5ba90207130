// Privacy: first-party page and feature counts, and the data-export progress bar in Privacy
// Settings. Nothing is reported until the server says this user is counted (opted in, adult);
// the server still drops anything else it receives.
//
//   script[data-count-page]           this page's view is reported (error pages leave it out)
//   [data-analytics-feature="name"]   a click reports that feature (see privacy/analytics.py)
//   [data-export-progress]            a panel following one export: holds <progress>, a
//                                     [data-export-state] text and an a[data-export-download];
//                                     data-export-url names the export's status URL, or it is
//                                     set when a form with data-export-start succeeds.

import { csrfToken } from "./forms.js";

const STATE_URL = "/api/v1/privacy/analytics";
const EVENT_URL = "/api/v1/privacy/analytics/event";
const POLL_MS = 1000;
const STATES = {
  queued: "Waiting to start…",
  running: "Collecting your data…",
  ready: "Ready. The link works for you only, until it expires.",
  failed: "Something went wrong; we are trying again.",
  expired: "This export has expired. Ask for a new one.",
};

function report(kind, name) {
  fetch(EVENT_URL, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify({ kind, name }),
    keepalive: true,
  }).catch(() => {});
}

async function counting() {
  try {
    const response = await fetch(STATE_URL, { credentials: "same-origin", headers: { Accept: "application/json" } });
    return response.ok && (await response.json()).counting === true;
  } catch {
    return false;
  }
}

async function setUpAnalytics() {
  if (!(await counting())) return;
  if (document.querySelector("script[data-count-page]")) report("page", window.location.pathname);
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target.closest("[data-analytics-feature]") : null;
    if (target) report("feature", target.dataset.analyticsFeature);
  });
}

function show(panel, body) {
  const bar = panel.querySelector("progress");
  const state = panel.querySelector("[data-export-state]");
  const link = panel.querySelector("a[data-export-download]");
  panel.hidden = false;
  if (bar) {
    bar.value = body.progress ?? 0;
    bar.textContent = `${body.progress ?? 0}%`;
  }
  if (state) state.textContent = STATES[body.status] || body.status;
  if (link) {
    link.hidden = !body.download_url;
    if (body.download_url) link.href = body.download_url;
  }
}

async function follow(panel, url) {
  panel.dataset.exportUrl = url;
  for (;;) {
    let body;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      body = await response.json();
    } catch {
      return;
    }
    show(panel, body);
    if (body.status !== "queued" && body.status !== "running") return;
    await new Promise((resolve) => window.setTimeout(resolve, POLL_MS));
  }
}

function setUpExports() {
  for (const panel of document.querySelectorAll("[data-export-progress][data-export-url]")) {
    follow(panel, panel.dataset.exportUrl);
  }
  document.addEventListener("forms:success", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.dataset.exportStart === undefined) return;
    const panel = document.querySelector("[data-export-progress]");
    if (panel && event.detail?.job_id) follow(panel, `/api/v1/privacy/export/${encodeURIComponent(event.detail.job_id)}`);
  });
}

setUpAnalytics();
setUpExports();
