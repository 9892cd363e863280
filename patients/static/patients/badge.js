// The header's unread badge, kept current without a reload: a conditional GET every few
// seconds (304 while nothing changed), paused while the tab is hidden. See patients/badge.py.
(function () {
  "use strict";
  var badge = document.querySelector(".unread-badge[data-unread-url]");
  if (!badge || !window.fetch) { return; }
  var url = badge.getAttribute("data-unread-url");
  var count = badge.querySelector(".count");
  var etag = null;
  var EVERY_MS = 4000;

  function show(unread) {
    count.textContent = String(unread);
    badge.hidden = unread === 0;
  }

  function poll() {
    if (document.hidden) { return; }
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) { window.clearInterval(timer); return null; }
        if (response.status !== 200) { return null; }
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (body) { if (body) { show(body.unread); } })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  var timer = window.setInterval(poll, EVERY_MS);
  document.addEventListener("visibilitychange", poll);
})();
