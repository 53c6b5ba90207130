// Small pieces of the chat page that chat.js composes: toast confirmations, Copy buttons on code
// blocks, the typing indicator of a pending reply, and the keyboard shortcuts dialog.

const TOAST_MS = 2500;

export function toaster(region) {
  return (text) => {
    if (!region) return;
    const toast = document.createElement("p");
    toast.className = "toast";
    toast.textContent = text;
    region.append(toast);
    window.setTimeout(() => toast.remove(), TOAST_MS);
  };
}

async function writeClipboard(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export async function copyText(text, button, toast) {
  const copied = await writeClipboard(text);
  const label = button.dataset.idleLabel || button.textContent;
  button.dataset.idleLabel = label;
  button.textContent = copied ? "Copied" : "Could not copy";
  toast(copied ? "Copied" : "Could not copy: the browser refused");
  window.setTimeout(() => { button.textContent = label; }, 2000);
}

// Each `pre` in a message body gets a Copy button (the stored HTML cannot carry buttons: the
// sanitiser removes them), added again whenever messages are re-rendered.
export function addCodeCopyButtons(scope) {
  for (const pre of scope.querySelectorAll("[data-message-body] pre")) {
    if (pre.parentElement.classList.contains("code-block")) continue;
    const wrapper = document.createElement("div");
    wrapper.className = "code-block";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link-button code-copy";
    button.dataset.copyCode = "";
    button.textContent = "Copy code";
    pre.replaceWith(wrapper);
    wrapper.append(button, pre);
  }
}

export function codeOf(button) {
  return button.closest(".code-block")?.querySelector("pre")?.textContent || "";
}

// "Ada is typing… 3s" in the pending reply until its first token.
export function typingIndicator(reply, personaName) {
  const indicator = document.createElement("span");
  indicator.className = "typing-indicator";
  indicator.setAttribute("role", "status");
  reply.item.querySelector("[data-message-body]").prepend(indicator);
  const started = Date.now();
  const show = () => {
    const seconds = Math.floor((Date.now() - started) / 1000);
    indicator.textContent = `${personaName || "The persona"} is typing… ${seconds}s`;
  };
  show();
  const timer = window.setInterval(show, 1000);
  return () => {
    window.clearInterval(timer);
    indicator.remove();
  };
}

export function inTextField(target) {
  return target instanceof HTMLElement && (target.isContentEditable
    || target.matches("input, textarea, select"));
}

export function setUpShortcutsDialog(dialog) {
  if (!dialog) return;
  document.addEventListener("keydown", (event) => {
    if (event.key !== "?" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (inTextField(event.target) || dialog.open) return;
    event.preventDefault();
    dialog.showModal();
  });
}
