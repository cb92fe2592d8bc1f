/* Fixes for Chainlit's UI, in the full chat and inside the widget's shadow root. Each part has one job:
   - labels:  every button and screen-reader text named in the UI language (Chainlit leaves some unnamed or English);
   - sources: the source panel opens only when a citation is clicked, and focus returns to that citation on close;
   - typing:  text typed before the chat is ready is kept when Chainlit swaps its input box;
   - styles:  focus ring, starter buttons and link contrast (public/chat-ui.css, also inside the widget);
   - brand and landmarks: the full chat's header names the assistant (its one heading), banner and main marked.
   Runs on every DOM change; nothing here loads from anywhere but the assistant's own server. */
(function () {
  "use strict";
  var ME = document.currentScript && document.currentScript.src;
  var LABELS = {
    de: {
      "new-chat-button": "Neuer Chat", "chat-submit": "Nachricht senden", "upload-button": "Datei anhängen",
      "chainlit-copilot-button": "Chat öffnen oder schließen", "display-mode-button": "Ansicht wechseln",
      "theme-toggle": "Farbschema wechseln", "stop-button": "Antwort abbrechen", "copy": "Antwort kopieren",
      "positive-feedback": "Hilfreiche Antwort", "negative-feedback": "Nicht hilfreiche Antwort",
      "close": "Schließen", "back": "Quelle schließen", "dialog": "Chat-Assistent", "scroll": "Zum Ende springen",
      "fullscreen": "Vollbild", "sidebar": "Seitenleiste", "generic": "Aktion",
      "notifications": "Benachrichtigungen (Alt+T)", "home": "Cluster-Assistent Hamburg"
    },
    en: {
      "new-chat-button": "New chat", "chat-submit": "Send message", "upload-button": "Attach file",
      "chainlit-copilot-button": "Open or close the chat", "display-mode-button": "Change view",
      "theme-toggle": "Change colour scheme", "stop-button": "Stop the answer", "copy": "Copy answer",
      "positive-feedback": "Helpful answer", "negative-feedback": "Not a helpful answer",
      "close": "Close", "back": "Close source", "dialog": "Chat assistant", "scroll": "Jump to the end",
      "fullscreen": "Full screen", "sidebar": "Side panel", "generic": "Action",
      "notifications": "Notifications (Alt+T)", "home": "Cluster-Assistent Hamburg"
    }
  };
  /* Chainlit's own English screen-reader texts and what they say in the UI language */
  var SR_TEXTS = { "Toggle theme": "theme-toggle", "Close": "close" };
  var REGION_LABELS = { "Notifications alt+T": "notifications" };  /* the toast region's English name */
  var ICONS = [  /* lucide icon class of an icon-only button -> its name */
    ["lucide-copy", "copy"], ["lucide-check", "copy"], ["lucide-arrow-left", "back"], ["lucide-x", "close"],
    ["lucide-thumbs-up", "positive-feedback"], ["lucide-thumbs-down", "negative-feedback"],
    ["lucide-arrow-down", "scroll"], ["lucide-square-pen", "new-chat-button"], ["lucide-maximize", "fullscreen"],
    ["lucide-minimize", "fullscreen"], ["lucide-panel-right", "sidebar"], ["lucide-sun", "theme-toggle"],
    ["lucide-moon", "theme-toggle"]
  ];

  var MINE = {};  /* every label we set, in either language: ours to replace after a language switch */
  Object.keys(LABELS).forEach(function (l) { Object.keys(LABELS[l]).forEach(function (k) { MINE[LABELS[l][k]] = 1; }); });

  function language(root) {  /* the widget's host element carries the language it was embedded with */
    var host = root && root.host;
    var lang = ((host && host.getAttribute("data-assistant-lang")) || navigator.language || "de")
      .slice(0, 2).toLowerCase();
    return lang === "en" ? "en" : "de";
  }

  /* ---- labels ---- */
  function ownName(el) {
    return el.getAttribute("aria-labelledby") || el.getAttribute("title") || (el.textContent || "").trim();
  }

  function labelFor(el, t) {
    if (t[el.id]) return t[el.id];
    var cls = el.getAttribute("class") || "";
    if (/positive-feedback/.test(cls)) return t["positive-feedback"];
    if (/negative-feedback/.test(cls)) return t["negative-feedback"];
    var svg = el.querySelector("svg");
    var icon = svg ? svg.getAttribute("class") || "" : "";
    for (var i = 0; i < ICONS.length; i++) if (icon.indexOf(ICONS[i][0]) >= 0) return t[ICONS[i][1]];
    return t.generic;
  }

  function fixLabels(root) {
    var t = LABELS[language(root)];
    var buttons = root.querySelectorAll("button, [role=button]");
    for (var i = 0; i < buttons.length; i++) {
      var el = buttons[i];
      if (el.getAttribute("role") === "presentation") el.removeAttribute("role");
      var label = el.getAttribute("aria-label");
      if (ownName(el) && !label) continue;
      if (!label || MINE[label]) {  /* ours (possibly in the other language after a switch) or missing */
        var wanted = labelFor(el, t);
        if (label !== wanted) el.setAttribute("aria-label", wanted);
      }
    }
    var actions = root.querySelectorAll("button[id]");  /* Chainlit actions (starters) carry a UUID as id */
    for (var a = 0; a < actions.length; a++) {
      if (/^[0-9a-f]{8}-[0-9a-f]{4}-/.test(actions[a].id) && (actions[a].textContent || "").trim()) {
        actions[a].setAttribute("data-ca-action", "");
      }
    }
    var logos = root.querySelectorAll("img.logo");
    for (var g = 0; g < logos.length; g++) if (logos[g].alt !== t.home) logos[g].alt = t.home;
    var regions = root.querySelectorAll("[aria-label]");
    for (var r = 0; r < regions.length; r++) {
      var english = regions[r].getAttribute("aria-label");
      var key = REGION_LABELS[english];
      if (key && t[key] !== english) regions[r].setAttribute("aria-label", t[key]);
    }
    var sr = root.querySelectorAll(".sr-only");
    for (var s = 0; s < sr.length; s++) {
      var key = SR_TEXTS[(sr[s].textContent || "").trim()];
      if (key && t[key] !== sr[s].textContent) sr[s].textContent = t[key];
    }
    var controlled = root.querySelectorAll("[aria-controls]");
    for (var j = 0; j < controlled.length; j++) {
      var target = controlled[j].getAttribute("aria-controls");
      var scope = root.getElementById ? root : document;
      if (target && !scope.getElementById(target)) controlled[j].removeAttribute("aria-controls");
    }
    var dialogs = root.querySelectorAll("[role=dialog]:not([aria-label]):not([aria-labelledby])");
    for (var k = 0; k < dialogs.length; k++) dialogs[k].setAttribute("aria-label", t.dialog);
  }

  /* ---- sources: open on a click only, focus back to the citation on close ---- */
  function sources(root) {
    var clickedAt = 0, opener = null, allowed = null, wasOpen = false;
    root.addEventListener("click", function (e) {
      var link = e.target && e.target.closest ? e.target.closest(".element-link") : null;
      if (link) { clickedAt = Date.now(); opener = link; }
    }, true);
    function scope() { return root.getElementById ? root : document; }
    function signature(title) {
      var panel = title.closest("aside, [role=dialog]") || title.parentElement;
      return (title.textContent || "") + "|" + panel.querySelectorAll("*").length;
    }
    function close(title) {
      var dialog = title.closest("[role=dialog]");
      var back = title.querySelector("button");
      if (!dialog && back) { back.click(); return; }
      (dialog || title).dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", code: "Escape", bubbles: true }));
    }
    return function check() {
      var title = scope().getElementById("side-view-title");
      var dialogOpen = !!root.querySelector("[role=dialog] blockquote");  /* a passage shown over the chat */
      var open = !!title || dialogOpen;
      if (title) {
        var sig = signature(title);
        if (Date.now() - clickedAt < 1500) allowed = sig;  /* opened or changed by the user's click */
        else if (sig !== allowed) close(title);            /* opened by Chainlit after an answer */
      }
      if (wasOpen && !open && opener && opener.isConnected) {
        var back = opener;
        window.setTimeout(function () { back.focus(); }, 0);
        window.setTimeout(function () { if (!root.activeElement || root.activeElement === document.body) back.focus(); }, 60);
      }
      if (!open) allowed = null;
      wasOpen = open;
    };
  }

  /* ---- typing: what the user typed survives Chainlit swapping its input box ---- */
  function typing(root) {
    var typed = "", box = null;
    function setValue(el, value) {
      var setter = Object.getOwnPropertyDescriptor(window.HTMLTextAreaElement.prototype, "value").set;
      setter.call(el, value);
      el.dispatchEvent(new Event("input", { bubbles: true }));
    }
    root.addEventListener("input", function (e) {
      if (e.target && e.target.id === "chat-input") typed = e.target.value;
    }, true);
    root.addEventListener("keydown", function (e) {
      if (e.target && e.target.id === "chat-input" && e.key === "Enter" && !e.shiftKey && !e.isComposing) typed = "";
    }, true);
    root.addEventListener("click", function (e) {
      if (e.target && e.target.closest && e.target.closest("#chat-submit")) typed = "";
    }, true);
    return function check() {
      var current = (root.getElementById ? root : document).getElementById("chat-input");
      if (!current || current === box) return;
      var hadFocus = box && (root.activeElement === box || document.activeElement === box);
      box = current;
      if (typed && !current.value) {
        setValue(current, typed);
        if (hadFocus || !root.activeElement || root.activeElement === document.body) {
          current.focus();
          current.setSelectionRange(typed.length, typed.length);
        }
      }
    };
  }

  /* ---- styles ---- */
  function addStyles(root) {
    if (!ME || !root.host) return;  /* the full chat loads chat-ui.css as Chainlit's custom_css */
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = ME.replace(/chat-ui\.js(\?.*)?$/, "chat-ui.css");
    root.appendChild(link);
  }

  /* ---- brand: the full chat's header shows the logo (the widget shows it in its own header) ---- */
  function brand(root) {
    if (root.host) return;
    var header = document.getElementById("header");
    if (!header || header.querySelector(".ca-brand")) return;
    var slot = header.children[2] && !header.children[2].children.length ? header.children[2] : null;
    if (!slot) return;
    /* the page's one heading: a name, not a link (a link to "/" would end the conversation) */
    var link = document.createElement("h1");
    link.className = "ca-brand";
    var img = document.createElement("img");
    img.src = "/logo";
    img.alt = LABELS[language(null)].home;
    link.appendChild(img);
    slot.appendChild(link);
  }

  /* ---- landmarks: the full chat's header is the banner, the conversation the main part of the page ---- */
  function landmarks(root) {
    if (root.host) return;  /* the widget lives in the host page's landmarks */
    var header = document.getElementById("header");
    if (!header) return;
    if (header.getAttribute("role") !== "banner") header.setAttribute("role", "banner");
    var chat = header.nextElementSibling;
    if (chat && chat.getAttribute("role") !== "main") chat.setAttribute("role", "main");
  }

  function watch(root) {
    var checkSources = sources(root), checkTyping = typing(root);
    var run = function () {
      scheduled = false;
      fixLabels(root);
      brand(root);
      landmarks(root);
      checkSources();
      checkTyping();
    };
    var scheduled = false;
    new MutationObserver(function () {
      checkTyping();  /* at once: a swapped input box must get its text back before the next key press */
      if (!scheduled) { scheduled = true; window.requestAnimationFrame(run); }
    }).observe(root, { subtree: true, childList: true, characterData: true, attributes: true,
                       attributeFilter: ["aria-controls", "role", "aria-label"] });
    addStyles(root);
    run();
  }

  window.clusterAssistantUI = watch;
  if (document.getElementById("root")) {  /* the full chat page */
    document.documentElement.setAttribute("lang", language(null));
    watch(document);
  }
})();
