/* Live counter of a ballot: chosen / left, or budget spent / left. The server recounts and
   checks everything on submit; this only saves a round trip. */
(function () {
  "use strict";
  var form = document.getElementById("ballot");
  var counter = document.getElementById("counter");
  if (!form || !counter) { return; }
  var kind = form.getAttribute("data-kind");
  var budget = parseInt(form.getAttribute("data-budget"), 10);
  var max = parseInt(form.getAttribute("data-max"), 10);
  var points = parseInt(form.getAttribute("data-points"), 10);
  /* Amounts are written with the signs the server renders (kiosk/i18n.py money_format), not
     with Intl: Debian's Chromium lacks some languages' data (Basque fell back to English). */
  var group = form.getAttribute("data-money-group") || "";
  var decimal = form.getAttribute("data-money-decimal") || ",";
  var template = form.getAttribute("data-money-template") || "{n}";

  function money(n) {
    var whole = Math.floor(Math.abs(n));
    var cents = Math.round((Math.abs(n) - whole) * 100);
    var digits = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, function () { return group; });
    if (cents) { digits += decimal + (cents < 10 ? "0" : "") + cents; }
    return template.split("{n}").join((n < 0 ? "-" : "") + digits);
  }
  function msg(name, values) {
    var text = counter.getAttribute("data-msg-" + name) || "";
    Object.keys(values).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }
  function setText(id, text, strong) {
    var el = document.getElementById(id);
    if (!el) { return; }
    el.textContent = "";
    var node = strong ? document.createElement("strong") : el;
    node.textContent = text;
    if (strong) { el.appendChild(node); }
  }

  function update() {
    var boxes = form.querySelectorAll('input[name="project"]');
    var chosen = 0, spent = 0, used = 0, over = false, ranked = 0;
    boxes.forEach(function (box) {
      var item = box.closest(".project");
      if (item) { item.classList.toggle("chosen", box.checked); }
      if (box.checked) { chosen += 1; spent += parseInt(box.getAttribute("data-cost"), 10); }
    });
    form.querySelectorAll("select").forEach(function (sel) {
      var v = parseInt(sel.value, 10) || 0;
      var item = sel.closest(".project");
      if (item) { item.classList.toggle("chosen", v > 0); }
      if (kind === "cumulative") { used += v; } else if (v > 0) { ranked += 1; }
    });
    if (kind === "approval") {
      over = chosen > max;
      var text = msg("count", { n: chosen, max: max, left: Math.max(max - chosen, 0) });
      if (over) { text += " " + msg("over", { extra: chosen - max }); }
      setText("counter-text", text, over);
    } else if (kind === "knapsack") {
      over = spent > budget;
      var meter = document.getElementById("budget-meter");
      if (meter) {
        meter.value = Math.min(spent, budget);
        meter.textContent = money(spent);
        meter.classList.toggle("budget-over", over);
      }
      var flag = document.getElementById("budget-flag");
      if (flag) { flag.hidden = !over; }
      setText("spent-text", msg("spent", { spent: money(spent) }), false);
      setText("left-text", over ? msg("overbudget", { over: money(spent - budget) }) : msg("left", { left: money(budget - spent) }), over);
    } else if (kind === "cumulative") {
      over = used > points;
      setText("counter-text", msg("points", { used: used, points: points, left: points - used }), over);
    } else {
      over = ranked > max;
      setText("counter-text", msg("ranked", { n: ranked, max: max }), over);
    }
    counter.classList.toggle("counter-over", over);
  }

  form.addEventListener("change", update);
  document.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
}());
