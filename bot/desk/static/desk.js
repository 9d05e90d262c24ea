// The desk shell (docs/desk.md): reads Telegram's launch data, applies the theme, loads the
// menu and pages as HTML fragments, submits forms. Vanilla JS, no build step. Works without
// telegram-web-app.js (sandbox, tests, a desktop browser): the launch data is in the hash.
(function () {
  "use strict";

  var HEADER = "X-Telegram-Init-Data";
  var launch = new URLSearchParams(location.hash.replace(/^#/, ""));
  var tg = window.Telegram && window.Telegram.WebApp;
  var initData = (tg && tg.initData) || launch.get("tgWebAppData") || "";
  var strings = {};
  var main, nav;

  function applyTheme(params) {
    if (!params) return;
    var root = document.documentElement.style;
    Object.keys(params).forEach(function (key) {
      if (/^[a-z_]+$/.test(key) && /^#[0-9a-fA-F]{3,8}$/.test(String(params[key]))) {
        root.setProperty("--tg-theme-" + key.replace(/_/g, "-"), params[key]);
      }
    });
  }

  function themeFromHash() {
    try {
      return JSON.parse(launch.get("tgWebAppThemeParams") || "null");
    } catch (e) {
      return null;
    }
  }

  function message(text, cls) {
    var p = document.createElement("p");
    p.className = cls || "desk-problem";
    p.textContent = text;
    main.replaceChildren(p);
  }

  function show(html) {
    main.innerHTML = html;  // our own server-rendered, autoescaped fragment
    var page = main.querySelector(".desk-page");
    if (page && page.dataset.title) document.title = page.dataset.title;
    markCurrent();
    window.scrollTo(0, 0);
  }

  function markCurrent() {
    var current = history.state && history.state.path;
    if (!nav || !current) return;
    nav.querySelectorAll("a[data-path]").forEach(function (a) {
      var here = current.indexOf("/desk/p/" + a.dataset.path) === 0;
      a.classList.toggle("current", here);
      if (here) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
  }

  function request(path, options) {
    options = options || {};
    options.headers = options.headers || {};
    if (!options.method || options.method === "GET") options.headers[HEADER] = initData;
    options.credentials = "omit";
    return fetch(path, options).then(function (response) {
      return response.text().then(function (text) {
        return { status: response.status, text: text };
      });
    });
  }

  function shellUrl(path) {
    // Keep Telegram's hash so a reload still has the launch data.
    return location.pathname + "?p=" + encodeURIComponent(path) + location.hash;
  }

  function load(path, push) {
    if (path.indexOf("/desk/p/") !== 0) return;
    message(strings.loading, "desk-loading");
    if (push) history.pushState({ path: path }, "", shellUrl(path));
    else history.replaceState({ path: path }, "", shellUrl(path));
    return request(path).then(function (r) { show(r.text); }, function () {
      message(strings.offline);
    });
  }

  function submit(form, submitter) {
    var data = new URLSearchParams(new FormData(form));
    // FormData(form) leaves out the button pressed; its name=value is the decision.
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    var action = form.getAttribute("action") || (history.state && history.state.path) || "";
    if ((form.getAttribute("method") || "get").toLowerCase() === "get") {
      var query = new URLSearchParams();
      data.forEach(function (value, key) { if (value !== "") query.append(key, value); });
      var q = query.toString();
      return load(action.split("?")[0] + (q ? "?" + q : ""), true);
    }
    data.set("_init_data", initData);
    form.querySelectorAll("button, input[type=submit]").forEach(function (b) { b.disabled = true; });
    return request(action, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: data.toString(),
    }).then(function (r) { show(r.text); }, function () {
      message(strings.offline);
    });
  }

  function start() {
    main = document.getElementById("desk-main");
    nav = document.getElementById("desk-nav");
    var s = document.getElementById("desk-strings");
    strings = s ? s.dataset : {};
    tg = window.Telegram && window.Telegram.WebApp;
    if (tg) {
      initData = tg.initData || initData;
      try { tg.ready(); tg.expand(); } catch (e) { /* an old client */ }
      applyTheme(tg.themeParams && Object.keys(tg.themeParams).length ? tg.themeParams : themeFromHash());
      if (tg.onEvent) tg.onEvent("themeChanged", function () { applyTheme(tg.themeParams); });
    } else {
      applyTheme(themeFromHash());
    }
    if (!initData) {
      message(strings.noLaunch);
      return;
    }
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[data-desk]");
      if (!link || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      load(link.getAttribute("href"), true);
    });
    // Exports (desk-people): a one-time file link opens in Telegram's own downloader
    // (WebApp.downloadFile, Bot API 8.0) when the client has it; otherwise it is a link.
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[data-desk-download]");
      if (!link || !tg || typeof tg.downloadFile !== "function") return;
      event.preventDefault();
      try {
        tg.downloadFile({ url: new URL(link.getAttribute("href"), location.href).href,
                          file_name: link.dataset.filename || "export" });
      } catch (e) {
        location.href = link.getAttribute("href");
      }
    });
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.hasAttribute("data-desk-form")) return;
      event.preventDefault();
      submit(form, event.submitter);
    });
    window.addEventListener("popstate", function (event) {
      if (event.state && event.state.path) load(event.state.path, false);
    });
    var wanted = new URLSearchParams(location.search).get("p");
    request("/desk/p/nav").then(function (r) {
      if (r.status !== 200) { show(r.text); return; }
      nav.innerHTML = r.text;
      var list = nav.querySelector("[data-start]");
      load(wanted || (list && list.dataset.start) || "/desk/p/home", false);
    }, function () { message(strings.offline); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
