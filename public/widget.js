/* Cluster Assistant widget loader: paste ONE script tag into any page.

   <script src="https://ASSISTANT-HOST/public/widget.js" data-language="de" defer></script>

   Optional attributes: data-language ("de" | "en"; default: the browser's), data-opened ("true"),
   data-theme ("light" | "dark"). The widget talks to the host the script comes from.
   It changes nothing on the host page outside its own shadow root: no stylesheet, no font, no attribute. */
(function () {
  "use strict";
  var me = document.currentScript;
  var server = (me && me.getAttribute("data-server")) || new URL(me.src).origin;
  var lang = (me && me.getAttribute("data-language")) || (navigator.language || "de").slice(0, 2);
  lang = lang === "en" ? "en" : "de";
  var opened = me && me.getAttribute("data-opened") === "true";
  var theme = (me && me.getAttribute("data-theme")) || "light";

  function load(src, done) {
    var s = document.createElement("script");
    s.src = src;
    s.charset = "utf-8";  /* a host page without a declared charset would read the scripts as Windows-1252 */
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
        if (host && host.shadowRoot && window.clusterAssistantUI) {
          host.setAttribute("data-assistant-lang", lang);
          host.setAttribute("lang", lang);
          window.clusterAssistantUI(host.shadowRoot);
        }
        if (host && host.shadowRoot) keepStylesInside(host.shadowRoot);
      }
    }, 100);
  }

  /* Chainlit's widget bundle puts its code-highlighting, notification and chart styles into the host page's <head>,
     where they would restyle the page's own elements of those names; they belong inside the widget. */
  var WIDGET_STYLE = /\.hljs|data-sonner-toaster/;
  function keepStylesInside(root) {
    function move() {
      var styles = document.head.querySelectorAll("style");
      for (var i = 0; i < styles.length; i++) {
        if (WIDGET_STYLE.test(styles[i].textContent || "") || /^plotly/.test(styles[i].id)) root.appendChild(styles[i]);
      }
    }
    move();
    new MutationObserver(move).observe(document.head, { childList: true });
  }

  load(server + "/public/chat-ui.js", function () { load(server + "/copilot/index.js", mount); });
})();
