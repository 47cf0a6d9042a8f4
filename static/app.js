// earshot: small progressive enhancements. Pages are complete without this file.
(function () {
  "use strict";
  // The share field selects its whole URL on focus, ready to copy.
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.id === "share-url") {
      target.select();
    }
  });
})();
