// The receipt page's "Print or save as PDF" button: shown only when this script runs, since
// without it the button could do nothing (the browser's own Print still works).

for (const button of document.querySelectorAll("button[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
