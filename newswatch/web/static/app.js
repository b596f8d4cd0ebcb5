// Progressive enhancement only: every page works without it.
// 1. Live preview of a watch query while typing (GET /watches/preview?q=..., HTML made
//    and escaped by the server). 2. Confirm before deleting a watch.
(function () {
  "use strict";
  var input = document.getElementById("query");
  var box = document.getElementById("preview");
  if (input && box && input.dataset.preview) {
    var timer = null, seq = 0;
    var run = function () {
      var mine = ++seq;
      var url = input.dataset.preview + "?q=" + encodeURIComponent(input.value);
      fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { if (mine === seq) { box.innerHTML = html; box.dataset.query = input.value; } })
        .catch(function () {});
    };
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 250);
    });
  }
  document.querySelectorAll("form.confirm").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.dataset.confirm || "Sure?")) { e.preventDefault(); }
    });
  });
})();
