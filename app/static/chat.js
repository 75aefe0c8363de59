/* Live chat without a framework: lines arrive over Server-Sent Events, the form posts in the
   background. Without JavaScript the page is a plain form that reloads. */
(function () {
  "use strict";

  function lines(root) { return root.querySelector("[data-chat-lines]"); }

  function startStream(root) {
    var url = root.getAttribute("data-chat-stream");
    if (!url || !window.EventSource) { return; }
    var list = lines(root);
    var source = new EventSource(url + "?after=" + encodeURIComponent(root.getAttribute("data-after") || "0"));
    source.addEventListener("line", function (event) {
      var data = JSON.parse(event.data);
      // Numbers count per conversation, and the thread also shows earlier conversations.
      if (document.getElementById("line-" + data.conversation + "-" + data.seq)) { return; }
      var empty = list.querySelector(".chat-empty");
      if (empty) { empty.parentNode.removeChild(empty); }
      list.insertAdjacentHTML("beforeend", data.html);  // rendered and escaped by the server
      list.scrollTop = list.scrollHeight;
      root.setAttribute("data-after", String(data.seq));
      var status = root.querySelector(".chat-status");
      if (data.status && status) {
        var line = document.createElement("p");
        var strong = document.createElement("strong");
        strong.textContent = data.status;
        line.appendChild(strong);
        status.replaceChildren(line);
      }
      if (data.reload) { source.close(); window.location.reload(); }
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  function sendInBackground(root) {
    var form = root.querySelector("form[data-chat-form]");
    if (!form || !window.fetch || !window.FormData) { return; }
    var error = form.querySelector("[data-chat-error]");
    var box = form.querySelector("textarea");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (result) {
        if (result.ok) {
          error.hidden = true;
          box.value = "";
          if (result.body.reload) { window.location.reload(); }
        } else {
          error.textContent = result.body.message || "";
          error.hidden = false;
        }
      }).catch(function () { form.submit(); })
        .then(function () { button.disabled = false; box.focus(); });
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { form.requestSubmit(); }
    });
  }

  function keepFresh(el) {
    var url = el.getAttribute("data-refresh-url");
    var every = 1000 * Number(el.getAttribute("data-refresh-seconds") || "5");
    window.setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null) { el.innerHTML = html; } });
    }, every);
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chat-stream], [data-chat]"), function (root) {
      var list = lines(root);
      if (list) { list.scrollTop = list.scrollHeight; }
      startStream(root);
      sendInBackground(root);
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-refresh-url]"), keepFresh);
  });
}());
