/* Idle reset: after a quiet while, warn; then erase the flow by posting the reset form.
   The server forgets idle flows on its own too, so this script only makes it visible. */
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds"), 10);
  var warn = parseInt(body.getAttribute("data-idle-warning-seconds"), 10);
  var keepaliveUrl = body.getAttribute("data-keepalive-url");
  var token = document.querySelector('meta[name="csrf-token"]');
  var box = document.getElementById("idle-warning");
  var left = document.getElementById("idle-seconds");
  var cont = document.getElementById("idle-continue");
  var form = document.getElementById("idle-reset");
  if (!idle || !box || !form) { return; }
  warn = Math.min(warn || 0, idle - 1);
  var last = Date.now();
  var lastPing = Date.now();
  var lastFocus = null;

  function ping() {
    // Tell the server the resident is still here (it forgets flows after the same delay).
    if (!keepaliveUrl || Date.now() - lastPing < 10000) { return; }
    lastPing = Date.now();
    var req = new XMLHttpRequest();
    req.open("POST", keepaliveUrl);
    req.setRequestHeader("X-CSRFToken", token ? token.content : "");
    req.send();
  }

  function activity() {
    if (!box.hidden) { return; }
    last = Date.now();
    ping();
  }

  function hideWarning() {
    box.hidden = true;
    last = Date.now();
    lastPing = 0;
    ping();
    if (lastFocus && lastFocus.focus) { lastFocus.focus(); }
  }

  function tick() {
    var quiet = (Date.now() - last) / 1000;
    if (quiet >= idle) {
      form.submit();
      return;
    }
    if (quiet >= idle - warn) {
      if (box.hidden) {
        lastFocus = document.activeElement;
        box.hidden = false;
        cont.focus();
      }
      left.textContent = String(Math.max(0, Math.ceil(idle - quiet)));
    }
  }

  ["keydown", "pointerdown", "input", "change", "scroll", "touchstart"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true, capture: true });
  });
  cont.addEventListener("click", hideWarning);
  box.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { hideWarning(); }
    if (event.key === "Tab") { event.preventDefault(); cont.focus(); }
  });
  setInterval(tick, 250);
}());
