// MAMIS: the little the browser does by itself (everything else is htmx).
// - 「パスワードを表示」 toggles the password fields between hidden and shown.
// - Suggestion lists (role=combobox + role=listbox): arrow keys, Enter,
//   Escape and clicks choose an option; multi-choice lists add a checkbox.
// - A form shown again with errors moves focus to its error summary.
// No inline handlers and no eval: the page's CSP forbids both.
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // Password visibility.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (!t.matches || !t.matches("input[data-show-password]")) return;
    t.getAttribute("data-show-password").split(" ").forEach(function (id) {
      var input = document.getElementById(id);
      if (input) input.type = t.checked ? "text" : "password";
    });
  });

  // Comboboxes.
  function listFor(input) {
    return document.getElementById(input.getAttribute("aria-controls"));
  }
  function options(list) {
    return list ? Array.prototype.slice.call(list.querySelectorAll("[role=option]")) : [];
  }
  function close(input) {
    var list = listFor(input);
    if (list) list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }
  function setActive(input, idx) {
    var opts = options(listFor(input));
    if (!opts.length) return;
    idx = (idx + opts.length) % opts.length;
    opts.forEach(function (o, i) {
      o.setAttribute("aria-selected", i === idx ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", opts[idx].id);
    opts[idx].scrollIntoView({ block: "nearest" });
  }
  function activeIndex(input) {
    var id = input.getAttribute("aria-activedescendant");
    return options(listFor(input)).findIndex(function (o) { return o.id === id; });
  }
  function choose(input, opt) {
    var value = opt.getAttribute("data-value");
    var chosenId = input.getAttribute("data-chosen");
    if (chosenId) {
      var chosen = document.getElementById(chosenId);
      var name = input.getAttribute("data-name");
      var exists = Array.prototype.some.call(
        chosen.querySelectorAll("input[type=checkbox]"),
        function (c) { return c.value === value; });
      if (!exists) {
        var li = document.createElement("li");
        var label = document.createElement("label");
        var box = document.createElement("input");
        box.type = "checkbox";
        box.name = name;
        box.value = value;
        box.checked = true;
        label.appendChild(box);
        label.appendChild(document.createTextNode(" " + value));
        li.appendChild(label);
        chosen.appendChild(li);
      }
      input.value = "";
      var status = document.getElementById(input.id + "-status");
      if (status) status.textContent = "「" + value + "」を追加しました。";
    } else {
      input.value = value;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    close(input);
    input.focus();
  }

  document.addEventListener("keydown", function (e) {
    var input = e.target;
    if (!input.matches || !input.matches("input[role=combobox]")) return;
    var opts = options(listFor(input));
    if (e.key === "ArrowDown") {
      if (!opts.length) return;
      e.preventDefault();
      setActive(input, activeIndex(input) + 1);
    } else if (e.key === "ArrowUp") {
      if (!opts.length) return;
      e.preventDefault();
      setActive(input, activeIndex(input) - 1);
    } else if (e.key === "Enter") {
      var i = activeIndex(input);
      if (i >= 0 && opts[i]) {
        e.preventDefault();
        choose(input, opts[i]);
      }
    } else if (e.key === "Escape") {
      if (opts.length) {
        e.preventDefault();
        close(input);
      }
    }
  });

  document.addEventListener("click", function (e) {
    var opt = e.target.closest && e.target.closest("[role=option]");
    if (!opt) return;
    var list = opt.closest("[role=listbox]");
    var input = list && document.querySelector("[aria-controls='" + list.id + "']");
    if (input) {
      e.preventDefault();
      choose(input, opt);
    }
  });

  document.addEventListener("htmx:afterSwap", function (e) {
    var list = e.detail && e.detail.target;
    if (!list || !list.id) return;
    var input = document.querySelector("input[role=combobox][aria-controls='" + list.id + "']");
    if (!input) {
      var fresh = document.getElementById(list.id);
      input = fresh && document.querySelector("input[role=combobox][aria-controls='" + fresh.id + "']");
    }
    if (!input) return;
    var n = options(document.getElementById(input.getAttribute("aria-controls"))).length;
    input.setAttribute("aria-expanded", n > 0 ? "true" : "false");
    input.removeAttribute("aria-activedescendant");
  });

  // A field's message region decides whether its control is marked invalid
  // (the check endpoint replaces only the message, not the control).
  function syncInvalid() {
    Array.prototype.forEach.call(document.querySelectorAll(".msg[id^='m-']"), function (msg) {
      var bad = msg.querySelector(".error") !== null;
      Array.prototype.forEach.call(document.querySelectorAll("input, select, textarea"), function (c) {
        var ids = (c.getAttribute("aria-describedby") || "").split(/\s+/);
        if (ids.indexOf(msg.id) < 0) return;
        if (bad) c.setAttribute("aria-invalid", "true");
        else c.removeAttribute("aria-invalid");
      });
    });
  }
  document.addEventListener("htmx:afterSwap", syncInvalid);
  document.addEventListener("htmx:afterSettle", syncInvalid);

  // A field check or suggestion that fails (e.g. the page's CSRF token has
  // expired after a day open) would otherwise fail silently: say so once.
  function showRequestError(text) {
    var main = document.getElementById("main");
    if (!main || document.getElementById("htmx-error")) return;
    var box = document.createElement("div");
    box.id = "htmx-error";
    box.className = "error-summary";
    box.setAttribute("role", "alert");
    box.textContent = text;
    main.insertBefore(box, main.firstChild);
  }
  document.addEventListener("htmx:responseError", function (e) {
    var status = e.detail && e.detail.xhr ? e.detail.xhr.status : 0;
    showRequestError(status === 403
      ? "画面の有効期限が切れました。お手数ですが、ページを再読み込みしてください。"
      : "入力内容の確認ができませんでした。時間をおいてもう一度お試しください。");
  });
  document.addEventListener("htmx:sendError", function () {
    showRequestError("サーバーに接続できませんでした。通信環境をご確認ください。");
  });

  onReady(function () {
    document.documentElement.classList.add("js");
    var summary = document.querySelector(".error-summary");
    if (summary) summary.focus();
  });
})();

// 郵便番号 → 住所: after the address was filled in, put the cursor after it,
// ready for the 番地.
document.addEventListener("htmx:afterSettle", function (e) {
  var region = document.getElementById("postal-result");
  if (!region || region.getAttribute("data-filled") !== "address") return;
  region.removeAttribute("data-filled");
  var input = document.getElementById("address");
  if (!input) return;
  input.focus();
  var end = input.value.length;
  try { input.setSelectionRange(end, end); } catch (err) { /* not a text input */ }
});
