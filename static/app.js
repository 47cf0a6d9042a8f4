// earshot: small progressive enhancements. Pages are complete without this file:
// the server writes every time in UTC, with relative words ("in 5 min"), and groups
// /upcoming by UTC days. This script shows those times in the viewer's own zone and
// language, keeps the relative words current, regroups the days, keeps keyboard
// focus through live polling and announces what changed.
(function () {
  "use strict";

  var MINUTE = 60000;

  // ---- One polite live region for the whole page --------------------------------

  var announcer = null;
  function announce(text) {
    if (!announcer) {
      announcer = document.createElement("p");
      announcer.id = "announcer";
      announcer.className = "visually-hidden";
      announcer.setAttribute("role", "status");
      announcer.setAttribute("aria-live", "polite");
      (document.querySelector("main") || document.body).appendChild(announcer);
    }
    // Emptied first, so that the same words said twice are announced twice.
    announcer.textContent = "";
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  // ---- Times in the viewer's zone and language -----------------------------------

  var absoluteFormat = new Intl.DateTimeFormat(navigator.languages, {
    weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "numeric", minute: "2-digit", timeZoneName: "short"
  });
  var clockFormat = new Intl.DateTimeFormat(navigator.languages, {
    hour: "numeric", minute: "2-digit", timeZoneName: "short"
  });
  var dayFormat = new Intl.DateTimeFormat(navigator.languages, {
    weekday: "long", day: "numeric", month: "long"
  });
  var locale = absoluteFormat.resolvedOptions().locale;
  var zone = absoluteFormat.resolvedOptions().timeZone;

  // The server's clock is the truth ("live for 95 min" is the server's count): a
  // viewer's clock may be off, and a demo world may run on a clock of its own. The
  // offset is read from the minute-precise relative words the server wrote.
  var offset = 0;
  function now() { return Date.now() + offset; }

  // The words of src/web/views.rs `relative` and `span`, mirrored.
  function span(secs) {
    if (secs < 60) return secs + " s";
    if (secs < 6000) return Math.floor(secs / 60) + " min";
    if (secs < 172800) {
      var hours = Math.floor(secs / 3600);
      var minutes = Math.floor((secs % 3600) / 60);
      return hours < 10 && minutes > 0 ? hours + " h " + minutes + " min" : hours + " h";
    }
    return Math.floor(secs / 86400) + " days";
  }
  function relative(t) {
    var secs = Math.trunc((t - now()) / 1000);
    if (Math.abs(secs) < 45) return "just now";
    return secs > 0 ? "in " + span(secs) : span(-secs) + " ago";
  }

  // What a time's text says, read once from the server's words.
  var KINDS = [
    ["live", /^live for /, function (t) { return "live for " + span(Math.max(0, Math.trunc((now() - t) / 1000))); }],
    ["starts", /^(starts |starting now$)/, function (t) { return t > now() ? "starts " + relative(t) : "starting now"; }],
    ["ended", /^ended /, function (t) { return "ended " + relative(t); }],
    ["relative", /^(in .+|.+ ago|just now)$/, relative],
    ["clock", /^\d{1,2}:\d{2}$/, function (t) { return clockFormat.format(t); }],
    ["absolute", /UTC$/, function (t) { return absoluteFormat.format(t); }]
  ];
  function kindOf(text) {
    for (var i = 0; i < KINDS.length; i++) if (KINDS[i][1].test(text)) return KINDS[i];
    return null;
  }
  function kindNamed(name) {
    for (var i = 0; i < KINDS.length; i++) if (KINDS[i][0] === name) return KINDS[i];
    return null;
  }

  // The range of server "now"s that a minute-precise word allows, or null.
  function serverNowRange(text, t) {
    var m = /(?:^|for |in |ended )(\d+) min( ago)?$/.exec(text);
    if (!m) return null;
    var n = Number(m[1]) * MINUTE;
    if (/^(live for|ended)|ago$/.test(text)) return [t + n, t + n + MINUTE];
    return [t - n - MINUTE, t - n];
  }
  function calibrate(times) {
    var lo = -Infinity, hi = Infinity;
    times.forEach(function (el) {
      var r = serverNowRange(el.textContent.trim(), Date.parse(el.dateTime));
      if (r) { lo = Math.max(lo, r[0]); hi = Math.min(hi, r[1]); }
    });
    if (!isFinite(lo) || !isFinite(hi) || lo > hi + MINUTE) return;
    var real = Date.now();
    // Within the words' precision (and a little for the trip): the clocks agree.
    if (real >= lo - 5000 && real <= hi + 5000) { offset = 0; return; }
    offset = (lo + hi) / 2 - real;
  }

  // The text node after a time, when it carries a word about the same moment:
  // " UTC" after a clock (dropped: the clock names its zone), " (in 17 h)" after a date.
  function trailing(el) {
    var next = el.nextSibling;
    return next && next.nodeType === 3 ? next : null;
  }

  function localiseTime(el) {
    var t = Date.parse(el.dateTime);
    if (isNaN(t)) return;
    if (!el.hasAttribute("data-kind")) {
      var text = el.textContent.trim();
      var kind = kindOf(text);
      el.setAttribute("data-kind", kind ? kind[0] : "");
      var after = trailing(el);
      if (kind && kind[0] === "clock" && after && /^ UTC/.test(after.nodeValue)) {
        after.nodeValue = after.nodeValue.slice(4);
      }
      if (kind && kind[0] === "absolute" && after && /^ \((.+)\)/.test(after.nodeValue)) {
        el.setAttribute("data-then", "1");
      }
      if (el.title) el.title = absoluteFormat.format(t);
      if (kind && (kind[0] === "clock" || kind[0] === "absolute")) el.lang = locale;
    }
    var k = kindNamed(el.getAttribute("data-kind"));
    if (!k) return;
    var words = k[2](t);
    if (el.textContent !== words) el.textContent = words;
    if (el.hasAttribute("data-then")) {
      var node = trailing(el);
      if (node) node.nodeValue = node.nodeValue.replace(/^ \((.+?)\)/, " (" + relative(t) + ")");
    }
  }

  function localise(root) {
    var fresh = Array.prototype.filter.call(root.querySelectorAll("time[datetime]"), function (el) {
      return !el.hasAttribute("data-kind");
    });
    if (fresh.length) calibrate(fresh);
    root.querySelectorAll("time[datetime]").forEach(localiseTime);
    // "Times are in UTC." becomes the viewer's zone.
    root.querySelectorAll("[data-tz]").forEach(function (el) {
      el.textContent = el.textContent.replace(/\bUTC\b/, "your time zone (" + zone + ")");
      el.removeAttribute("data-tz");
    });
  }

  // /upcoming: the server groups by UTC day; the viewer's days can differ (a Space at
  // 23:30 UTC is on the next day in Tokyo).
  // The viewer's calendar day of a moment, as a sortable key.
  var dayKeyFormat = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit"
  });
  function localDayKey(t) {
    var parts = dayKeyFormat.formatToParts(t);
    var get = function (type) {
      for (var i = 0; i < parts.length; i++) if (parts[i].type === type) return parts[i].value;
      return "";
    };
    return get("year") + "-" + get("month") + "-" + get("day");
  }
  function capitalise(text) { return text.charAt(0).toLocaleUpperCase(locale) + text.slice(1); }
  function dayHeading(key, t) {
    var today = localDayKey(now());
    var tomorrow = localDayKey(now() + 86400000);
    var rtf = typeof Intl.RelativeTimeFormat === "function" ? new Intl.RelativeTimeFormat(locale, { numeric: "auto" }) : null;
    if (key === today) return rtf ? capitalise(rtf.format(0, "day")) : "Today";
    if (key === tomorrow) return rtf ? capitalise(rtf.format(1, "day")) : "Tomorrow";
    return dayFormat.format(t);
  }

  function regroupDays() {
    var sections = document.querySelectorAll("section.day");
    if (!sections.length) return;
    var first = sections[0];
    var groups = [];
    var byKey = {};
    sections.forEach(function (section) {
      section.querySelectorAll("li.card").forEach(function (card) {
        var time = card.querySelector("time[datetime]");
        var t = time ? Date.parse(time.dateTime) : NaN;
        var key = isNaN(t) ? "unscheduled" : localDayKey(t);
        if (!byKey[key]) {
          byKey[key] = { key: key, t: t, heading: isNaN(t) ? section.querySelector("h2").textContent : dayHeading(key, t), cards: [] };
          groups.push(byKey[key]);
        }
        byKey[key].cards.push(card);
      });
    });
    var parent = first.parentNode;
    var anchor = document.createComment("days");
    parent.insertBefore(anchor, first);
    sections.forEach(function (section) { section.remove(); });
    groups.forEach(function (group, i) {
      var section = document.createElement("section");
      section.className = "day";
      section.setAttribute("aria-labelledby", "day-" + (i + 1));
      var h2 = document.createElement("h2");
      h2.id = "day-" + (i + 1);
      h2.textContent = group.heading;
      if (!isNaN(group.t)) { h2.lang = locale; h2.setAttribute("data-day", group.key); }
      var ul = document.createElement("ul");
      ul.className = "cards";
      group.cards.forEach(function (card) { ul.appendChild(card); });
      section.appendChild(h2);
      section.appendChild(ul);
      parent.insertBefore(section, anchor);
    });
    anchor.remove();
  }

  // Content htmx swaps in (the live status, the live list) arrives in UTC words.
  document.addEventListener("htmx:after:swap", function () { localise(document); });

  // Relative words kept current: one cheap timer, stopped while the tab is hidden.
  var ticker = null;
  function tick() {
    document.querySelectorAll("time[data-kind]").forEach(localiseTime);
  }
  function startTicker() {
    if (ticker === null) ticker = setInterval(tick, 15000);
  }
  function stopTicker() {
    if (ticker !== null) { clearInterval(ticker); ticker = null; }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      stopTicker();
    } else {
      tick();
      startTicker();
    }
  });

  // ---- Live polling that keeps focus and says what changed ----------------------

  // The regions pages poll (templates/partials/live_list.html, space.html).
  var POLLED = { "live-list": true, "live-status": true };
  var lastText = {};

  function spaceIdOf(card) {
    var link = card.querySelector('a[href^="/spaces/"]');
    var m = link && /^\/spaces\/([A-Za-z0-9]+)/.exec(link.getAttribute("href"));
    return m ? m[1] : null;
  }
  // Ids for the cards of a polled list, so that the morph moves a card rather than
  // rewriting one card into another (a focused link must keep pointing at its Space).
  function keyCards(root, regionId) {
    root.querySelectorAll("li.card").forEach(function (card) {
      var id = spaceIdOf(card);
      if (id && !card.id) card.id = regionId + "-" + id;
    });
  }
  function texts(nodes) {
    return Array.prototype.map.call(nodes, function (n) { return n.textContent.trim(); });
  }
  // What a polled region says that is worth announcing.
  function facts(region) {
    if (!region) return null;
    if (region.id === "live-status") {
      var badge = region.querySelector(".badge");
      return {
        state: badge ? badge.textContent.trim() : "",
        counts: texts(region.querySelectorAll("dl.stats dd")).map(function (n, i) {
          var dt = region.querySelectorAll("dl.stats dt")[i];
          return n + " " + (dt ? dt.textContent.trim() : "");
        }).join(", ")
      };
    }
    var cards = {};
    region.querySelectorAll("li.card").forEach(function (card) {
      var id = spaceIdOf(card);
      if (!id) return;
      var title = card.querySelector(".card-title");
      var count = card.querySelector(".card-top .count");
      cards[id] = { title: title ? title.textContent.trim() : "", count: count ? count.textContent.trim() : "" };
    });
    return { cards: cards };
  }
  function changes(before, after, focusedId) {
    if (!before || !after) return "";
    if (after.cards === undefined) {
      if (before.state !== after.state) {
        return "This Space is now " + after.state.toLowerCase() + (after.counts ? ": " + after.counts : "") + ".";
      }
      return before.counts !== after.counts && after.counts ? "Now " + after.counts + "." : "";
    }
    var ids = Object.keys(after.cards);
    var started = ids.filter(function (id) { return !before.cards[id]; }).length;
    var ended = Object.keys(before.cards).filter(function (id) { return !after.cards[id]; }).length;
    var said = [];
    if (started || ended) {
      var parts = [];
      if (started) parts.push(started + (started === 1 ? " Space joined" : " Spaces joined"));
      if (ended) parts.push(ended + (ended === 1 ? " Space left" : " Spaces left"));
      said.push("Live list: " + parts.join(", ") + "; " + ids.length + " shown.");
    }
    // The card the keyboard is on: its own count, said when it moves.
    var mine = focusedId && after.cards[focusedId];
    if (mine && before.cards[focusedId] && before.cards[focusedId].count !== mine.count && mine.count) {
      said.push(mine.title + ": " + mine.count + ".");
    }
    return said.join(" ");
  }

  function focusKey(region) {
    var active = document.activeElement;
    if (!active || active === document.body || !region.contains(active)) return null;
    var card = active.closest("li.card");
    return {
      href: active.getAttribute("href"),
      id: active.id,
      text: active.textContent,
      tag: active.tagName,
      spaceId: card ? spaceIdOf(card) : null
    };
  }
  function restoreFocus(regionId, key) {
    if (!key) return;
    var region = document.getElementById(regionId);
    if (!region || region.contains(document.activeElement)) return;
    var candidates = region.querySelectorAll(key.tag);
    var found = null;
    for (var i = 0; i < candidates.length && !found; i++) {
      var c = candidates[i];
      if ((key.id && c.id === key.id) || (key.href && c.getAttribute("href") === key.href)) found = c;
    }
    if (!found) {
      // The focused thing is gone (its Space left the list, the Space ended): the
      // region itself keeps focus, so the next Tab carries on from here.
      region.setAttribute("tabindex", "-1");
      found = region;
    }
    found.focus({ preventScroll: true });
  }

  document.addEventListener("htmx:before:swap", function (event) {
    var detail = event.detail || {};
    var ctx = detail.ctx || {};
    var task = (detail.tasks || []).filter(function (t) { return t.type === "main"; })[0];
    var target = task && (typeof task.target === "string" ? document.querySelector(task.target) : task.target);
    if (!target || !POLLED[target.id]) return;
    var regionId = target.id;
    // A byte-identical answer (a 304 the browser turned into its cached 200):
    // nothing changed, so nothing moves and nothing is said.
    if (typeof ctx.text === "string" && lastText[regionId] === ctx.text) {
      event.preventDefault();
      return;
    }
    lastText[regionId] = ctx.text;
    var incoming = task.fragment && task.fragment.firstElementChild;
    var before = facts(target);
    var after = facts(incoming && incoming.id === regionId ? incoming : null);
    var key = focusKey(target);
    // While it still polls, morph: unchanged nodes (and the focused link) stay. The
    // last answer (no trigger: the Space ended) replaces the region, which also
    // stops its timer.
    if (incoming && incoming.hasAttribute("data-hx-trigger") && task.swapSpec && typeof task.swapSpec === "object") {
      keyCards(target, regionId);
      keyCards(incoming, regionId);
      task.swapSpec.style = "outerMorph";
    }
    var said = changes(before, after, key && key.spaceId);
    document.addEventListener("htmx:after:swap", function done() {
      document.removeEventListener("htmx:after:swap", done);
      restoreFocus(regionId, key);
      if (said) announce(said);
    });
  });

  // ---- Share and copy -----------------------------------------------------------

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
      var label = button.getAttribute("data-label") || button.textContent;
      button.setAttribute("data-label", label);
      button.textContent = "Copied";
      // The button's new word is not read out by itself: the live region says it.
      announce(source.tagName === "TEXTAREA" ? "Embed code copied." : "Link copied.");
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });

  function start() {
    enableCopyButtons(document);
    localise(document);
    regroupDays();
    startTicker();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
