/* Small enhancements; every page works without them (the CSP allows only this file and Bootstrap's). */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  /* A refused form: move focus to its error summary so it is in view and read out. */
  /* After the load: the browser's own move to the #anchor comes first and would take the focus away. */
  var summary = document.querySelector(".error-summary");
  if (summary) {
    window.addEventListener("load", function () {
      setTimeout(function () { summary.focus(); summary.scrollIntoView({block: "start"}); }, 0);
    });
  }

  /* Filters are folded away on small screens and open on wide ones. */
  if (window.matchMedia("(min-width: 768px)").matches) {
    document.querySelectorAll("details[data-open-wide]").forEach(function (d) { d.open = true; });
  }

  /* Before the idle limit ends the session: a warning with the offer to continue. */
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  var renewUrl = body.getAttribute("data-renew-url");
  var box = document.getElementById("sessie-waarschuwing");
  if (!idle || !renewUrl || !box) { return; }
  var lead = Math.min(120, Math.floor(idle / 3));
  var warnTimer = null, endTimer = null;
  var token = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  function schedule() {
    clearTimeout(warnTimer); clearTimeout(endTimer);
    warnTimer = setTimeout(function () {
      box.hidden = false;
      var button = box.querySelector("button");
      if (button) { button.focus(); }
    }, (idle - lead) * 1000);
    endTimer = setTimeout(function () {
      box.querySelector("[data-text]").textContent =
        "Uw sessie is verlopen. Wat u nu opslaat, wordt bewaard; na opnieuw inloggen staat het weer in het formulier.";
      var button = box.querySelector("button");
      if (button) { button.hidden = true; }
    }, idle * 1000);
  }
  box.querySelector("button").addEventListener("click", function () {
    fetch(renewUrl, {method: "POST", credentials: "same-origin", redirect: "manual",
                     headers: {"X-CSRFToken": token, "Accept": "application/json"}})
      .then(function (response) {
        if (response.ok) { box.hidden = true; schedule(); }
        else { box.querySelector("[data-text]").textContent = "Uw sessie kon niet worden verlengd. Log opnieuw in."; }
      });
  });
  schedule();
})();

/* A field that applies to one choice appears with it: data-shown-with="select-id=value". */
(function () {
  "use strict";
  document.querySelectorAll("[data-shown-with]").forEach(function (box) {
    var spec = box.getAttribute("data-shown-with").split("=");
    var select = document.getElementById(spec[0]);
    if (!select) { return; }
    function update() { box.hidden = select.value !== spec[1] && !box.querySelector(".is-invalid"); }
    select.addEventListener("change", update);
    update();
  });
})();
