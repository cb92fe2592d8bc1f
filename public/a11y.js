/* Accessibility fixes for Chainlit's UI (full chat and widget): names for icon-only buttons,
   no dangling aria references, the page language set from the browser. Runs on every DOM change. */
(function () {
  "use strict";
  var LABELS = {
    de: {
      "new-chat-button": "Neuer Chat", "chat-submit": "Nachricht senden", "upload-button": "Datei anhängen",
      "chainlit-copilot-button": "Chat öffnen oder schließen", "display-mode-button": "Ansicht wechseln",
      "theme-toggle": "Farbschema wechseln", "stop-button": "Antwort abbrechen", "copy": "Antwort kopieren",
      "positive-feedback": "Hilfreiche Antwort", "negative-feedback": "Nicht hilfreiche Antwort",
      "close": "Schließen", "generic": "Schaltfläche", "dialog": "Chat-Assistent"
    },
    en: {
      "new-chat-button": "New chat", "chat-submit": "Send message", "upload-button": "Attach file",
      "chainlit-copilot-button": "Open or close the chat", "display-mode-button": "Change view",
      "theme-toggle": "Toggle colour scheme", "stop-button": "Stop the answer", "copy": "Copy answer",
      "positive-feedback": "Helpful answer", "negative-feedback": "Not a helpful answer",
      "close": "Close", "generic": "Button", "dialog": "Chat assistant"
    }
  };

  function language() {
    var lang = (document.documentElement.getAttribute("data-assistant-lang") || navigator.language || "de")
      .slice(0, 2).toLowerCase();
    return lang === "en" ? "en" : "de";
  }

  function hasName(el) {
    if (el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.getAttribute("title")) return true;
    return (el.textContent || "").trim().length > 0;
  }

  function labelFor(el, t) {
    var id = el.id || "";
    if (t[id]) return t[id];
    var cls = (el.getAttribute("class") || "");
    if (/positive-feedback/.test(cls)) return t["positive-feedback"];
    if (/negative-feedback/.test(cls)) return t["negative-feedback"];
    if (/copy/i.test(cls) || el.closest("[data-copy]")) return t.copy;
    if (el.closest("[role=dialog]") && el.querySelector("svg") && /close|x/i.test(el.innerHTML.slice(0, 400))) return t.close;
    return null;
  }

  function fix(root) {
    var t = LABELS[language()];
    var buttons = root.querySelectorAll("button, [role=button]");
    for (var i = 0; i < buttons.length; i++) {
      var el = buttons[i];
      if (el.getAttribute("role") === "presentation") el.removeAttribute("role");
      if (!hasName(el)) el.setAttribute("aria-label", labelFor(el, t) || t.generic);
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

  function watch(root) {
    var scheduled = false;
    var run = function () { scheduled = false; fix(root); };
    new MutationObserver(function () {
      if (!scheduled) { scheduled = true; window.requestAnimationFrame(run); }
    }).observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-controls", "role"] });
    fix(root);
  }

  window.clusterAssistantA11y = watch;
  if (document.getElementById("root")) {  /* the full chat page */
    document.documentElement.setAttribute("lang", language());
    watch(document);
  }
})();
