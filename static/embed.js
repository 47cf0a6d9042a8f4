/*! earshot embed.js v1: resizes earshot widget iframes to their content.
 * Include once on a page that embeds earshot widgets:
 *   <script async src="https://EARSHOT/static/embed.js"></script>
 */
(function () {
  "use strict";
  if (window.__earshotEmbed) return;
  window.__earshotEmbed = true;
  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src, location.href).origin : null;
  window.addEventListener("message", function (event) {
    // Only messages from the earshot origin this script came from.
    if (!origin || event.origin !== origin) return;
    var data = event.data;
    if (!data || data.type !== "earshot:embed:resize" || typeof data.height !== "number") return;
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        var height = Math.max(60, Math.min(2000, Math.round(data.height)));
        frames[i].style.height = height + "px";
        frames[i].setAttribute("height", String(height));
      }
    }
  });
})();
