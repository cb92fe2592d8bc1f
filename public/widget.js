/* Cluster Assistant widget loader: paste ONE script tag into any page.

   <script src="https://ASSISTANT-HOST/public/widget.js" data-language="de" defer></script>

   Optional attributes: data-language ("de" | "en"; default: the browser's), data-opened ("true"),
   data-theme ("light" | "dark"). The widget talks to the host the script comes from. */
(function () {
  "use strict";
  var me = document.currentScript;
  var server = (me && me.getAttribute("data-server")) || new URL(me.src).origin;
  var lang = (me && me.getAttribute("data-language")) || (navigator.language || "de").slice(0, 2);
  var opened = me && me.getAttribute("data-opened") === "true";
  var theme = (me && me.getAttribute("data-theme")) || "light";

  function load(src, done) {
    var s = document.createElement("script");
    s.src = src;
    s.onload = done;
    document.head.appendChild(s);
  }

  function mount() {
    window.mountChainlitWidget({
      chainlitServer: server,
      language: lang === "en" ? "en-US" : "de-DE",
      opened: opened,
      theme: theme
    });
    var tries = 0;
    var timer = window.setInterval(function () {  /* the widget renders into an open shadow root */
      var host = document.getElementById("chainlit-copilot");
      if ((host && host.shadowRoot) || ++tries > 100) {
        window.clearInterval(timer);
        if (host && host.shadowRoot && window.clusterAssistantA11y) {
          document.documentElement.setAttribute("data-assistant-lang", lang);
          window.clusterAssistantA11y(host.shadowRoot);
        }
      }
    }, 100);
  }

  var fonts = document.createElement("link");  /* system fonts; nothing from third parties */
  fonts.rel = "stylesheet";
  fonts.href = server + "/public/fonts.css";
  document.head.appendChild(fonts);
  load(server + "/public/a11y.js", function () { load(server + "/copilot/index.js", mount); });
})();
