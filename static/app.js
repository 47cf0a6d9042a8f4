// earshot: small progressive enhancements. Pages are complete without this file.
(function () {
  "use strict";

  // The share field selects its whole URL on focus, ready to copy.
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.readOnly && target.type === "url") {
      target.select();
    }
  });

  // Copy buttons are hidden without JavaScript (the URL stays visible and selectable).
  function enableCopyButtons(root) {
    if (!navigator.clipboard) return;
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element && event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    navigator.clipboard.writeText(source.value || source.textContent || "").then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enableCopyButtons(document); });
  } else {
    enableCopyButtons(document);
  }
})();
