// Progressive enhancement for every page. Pages work without it.

import { FLASH_KEY } from "./forms.js";
import "./local-time.js";
import "./theme-switch.js";

function setUpNavigationToggle() {
  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("site-nav");
  if (!toggle || !nav) return;
  toggle.addEventListener("click", () => {
    const open = nav.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("open")) {
      nav.classList.remove("open");
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    }
  });
}

// A message a form left for this page (data-flash), shown once at the top of the content.
function showFlash() {
  let text = null;
  try {
    text = window.sessionStorage.getItem(FLASH_KEY);
    window.sessionStorage.removeItem(FLASH_KEY);
  } catch {
    return;
  }
  const main = document.getElementById("main");
  if (!text || !main) return;
  const flash = document.createElement("p");
  flash.className = "notice success flash";
  flash.setAttribute("role", "status");
  main.prepend(flash);
  window.requestAnimationFrame(() => { flash.textContent = text; });  // announced once filled
}

setUpNavigationToggle();
showFlash();
