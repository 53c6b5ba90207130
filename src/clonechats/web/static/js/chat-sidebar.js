// The chat page's list of chats (chat/_sidebar.html). On wide screens the "Chats" button hides
// or shows it beside the chat (remembered in this browser); on narrow ones it opens it as a
// drawer, which Close, Escape or a click outside it closes, giving focus back to the button.

const WIDE = window.matchMedia("(min-width: 900px)");
const HIDDEN_KEY = "chat-sidebar-hidden";

const layout = document.querySelector("[data-chat-layout]");
const sidebar = layout?.querySelector("[data-chat-sidebar]");
const toggle = layout?.querySelector("[data-sidebar-toggle]");

function remembered() {
  try {
    return localStorage.getItem(HIDDEN_KEY) === "1";
  } catch {
    return false; // storage refused (private mode): the list simply shows
  }
}

function remember(hidden) {
  try {
    localStorage.setItem(HIDDEN_KEY, hidden ? "1" : "0");
  } catch {
    // nothing to keep it in; it still applies to this page
  }
}

function shown() {
  return WIDE.matches ? !layout.hasAttribute("data-sidebar-hidden")
    : layout.hasAttribute("data-sidebar-open");
}

function update() {
  toggle.setAttribute("aria-expanded", String(shown()));
  toggle.textContent = WIDE.matches && shown() ? "Hide chats" : "Chats";
}

function openDrawer() {
  layout.setAttribute("data-sidebar-open", "");
  update();
  sidebar.querySelector("input, a")?.focus();
}

function closeDrawer() {
  if (!layout.hasAttribute("data-sidebar-open")) return;
  layout.removeAttribute("data-sidebar-open");
  update();
  toggle.focus();
}

if (layout && sidebar && toggle) {
  layout.toggleAttribute("data-sidebar-hidden", remembered());
  toggle.hidden = false;
  update();
  toggle.addEventListener("click", () => {
    if (WIDE.matches) {
      const hide = !layout.hasAttribute("data-sidebar-hidden");
      layout.toggleAttribute("data-sidebar-hidden", hide);
      remember(hide);
      update();
    } else if (layout.hasAttribute("data-sidebar-open")) {
      closeDrawer();
    } else {
      openDrawer();
    }
  });
  sidebar.querySelector("[data-sidebar-close]")?.addEventListener("click", closeDrawer);
  sidebar.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && layout.hasAttribute("data-sidebar-open")) {
      event.stopPropagation(); // Escape here closes the drawer; it does not stop a reply
      closeDrawer();
    }
  });
  document.addEventListener("click", (event) => {
    if (layout.hasAttribute("data-sidebar-open") && !sidebar.contains(event.target)
        && !toggle.contains(event.target)) closeDrawer();
  });
  WIDE.addEventListener("change", () => {
    layout.removeAttribute("data-sidebar-open");
    update();
  });
}
