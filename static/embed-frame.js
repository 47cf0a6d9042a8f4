// Inside the earshot widget: tell the host page how tall the widget is, so
// /static/embed.js there can size the iframe with no scrollbars.
(function () {
  "use strict";
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
