// Opens Cashfree's hosted checkout for the order on this page (its payment session id).
// Cashfree's SDK (loaded by the page from sdk.cashfree.com) defines the global `Cashfree`.

const root = document.getElementById("cashfree-checkout");

function showError(message) {
  const alert = root.querySelector('[role="alert"]');
  alert.textContent = message;
  alert.hidden = false;
}

async function pay() {
  if (typeof window.Cashfree !== "function") {
    showError("Cashfree's checkout could not be loaded. Check your connection and try again.");
    return;
  }
  const cashfree = window.Cashfree({ mode: root.dataset.mode });
  const result = await cashfree.checkout({
    paymentSessionId: root.dataset.session,
    redirectTarget: "_self",
  });
  if (result?.error) showError(result.error.message || "The checkout could not start.");
}

if (root) {
  root.querySelector("[data-pay]").addEventListener("click", () => { pay(); });
}
