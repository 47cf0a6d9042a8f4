// Inside the earshot widget: tell the host page how tall the widget is, so
// /static/embed.js there can size the iframe with no scrollbars; and load an error
// card that carries a Retry-After again once that time has passed.
(function () {
  "use strict";
  var card = document.querySelector("[data-retry-after]");
  var secs = card ? Number(card.getAttribute("data-retry-after")) : 0;
  if (secs > 0 && secs <= 3600) {
    // Spread out, so that the widgets of one page don't all come back at once.
    var wait = secs + Math.random() * Math.min(secs, 30);
    setTimeout(function () {
      location.reload();
    }, wait * 1000);
  }

  if (window.parent === window || typeof ResizeObserver === "undefined") return;
  var last = 0;
  function post() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    // The height is not a secret: any host page may read it.
    window.parent.postMessage({ type: "earshot:embed:resize", version: 1, height: height }, "*");
  }
  new ResizeObserver(post).observe(document.documentElement);
  post();
})();
