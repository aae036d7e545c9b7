// Relance's own behaviour, loaded after htmx; no inline script anywhere (strict CSP).
(function () {
  "use strict";

  // Loaded in <head>, before the page is drawn: what CSS folds behind a script-run button (the board's
  // filters on a phone) stays unfolded when scripts do not run.
  document.documentElement.classList.add("js");

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx 4: attributes are not inherited, so the CSRF header is added to every request here.
  document.addEventListener("htmx:config:request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (ctx && ctx.request && ctx.request.headers) {
      ctx.request.headers["X-CSRFToken"] = csrfToken();
    }
  });

  // Double submits: a form (or button) that is sending cannot send again until its answer comes, so
  // a double click on Enregistrer records once. The server recognises a resent form too (its key).
  // GET requests are left alone: search-as-you-type must always send the last keystroke.
  function submitters(owner) {
    if (owner.tagName !== "FORM") return [owner];
    return Array.prototype.slice.call(owner.querySelectorAll("button:not([type=button]), input[type=submit]"));
  }
  function setBusy(owner, busy) {
    if (busy) owner.setAttribute("data-busy", "");
    else owner.removeAttribute("data-busy");
    owner.setAttribute("aria-busy", busy ? "true" : "false");
    submitters(owner).forEach(function (button) {
      if (busy && !button.disabled) button.setAttribute("data-busy-disabled", "");
      if (button.hasAttribute("data-busy-disabled")) button.disabled = busy;
      if (!busy) button.removeAttribute("data-busy-disabled");
    });
  }
  function busyOwner(element) {
    return (element && element.closest && (element.closest("form") || element)) || null;
  }
  document.addEventListener("htmx:before:request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (!ctx || !ctx.request || (ctx.request.method || "GET").toUpperCase() === "GET") return;
    var owner = busyOwner(ctx.sourceElement);
    if (!owner) return;
    if (owner.hasAttribute("data-busy")) {
      event.preventDefault();
      return;
    }
    setBusy(owner, true);
    ctx.busyOwner = owner;
  });
  document.addEventListener("htmx:finally:request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (ctx && ctx.busyOwner) setBusy(ctx.busyOwner, false);
  });
  // Plain (non-htmx) forms: the first submit goes, the next ones wait for the page it loads.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    // POST only: a GET search may be sent again, and a <form method="dialog"> only closes its dialog.
    if (event.defaultPrevented || (form.method || "get").toLowerCase() !== "post") return;
    if (form.hasAttribute("data-busy")) {
      event.preventDefault();
      return;
    }
    // After this event: the submitted data still carries the clicked button's name and value.
    setTimeout(function () { setBusy(form, true); }, 0);
  });
  // Back to a page kept by the browser's cache: its forms may be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-busy]").forEach(function (form) { setBusy(form, false); });
  });

  // Keyboard: "/" focuses the search box, as in most tools people already know.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (document.activeElement && document.activeElement.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    var search = document.querySelector('input[type="search"]');
    if (search) {
      event.preventDefault();
      search.focus();
    }
  });

  // Copy buttons (sources settings): data-copy names the element whose text is copied.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var status = button.parentNode.querySelector("[data-copy-status]");
    function done(message) {
      if (status) status.textContent = message;
      else button.setAttribute("aria-label", message);
    }
    var copied = button.getAttribute("data-copied") || "✓";
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(copied); });
    } else if (source.select) {
      // No clipboard API outside HTTPS (a clinic's intranet): select, and the older copy command;
      // when even that is refused, the text stays selected for Ctrl+C.
      source.select();
      try { if (document.execCommand("copy")) done(copied); } catch (ignored) { /* Ctrl+C */ }
    } else {
      window.getSelection().selectAllChildren(source);
    }
  });

  // Field mapping: the placeholders follow the form kind chosen (each input carries every preset's names).
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("[data-preset-select]")) return;
    var form = select.form;
    if (!form) return;
    form.querySelectorAll("[data-preset-" + select.value + "]").forEach(function (input) {
      input.placeholder = input.getAttribute("data-preset-" + select.value);
    });
  });

  // After an in-place answer (a triaged request), the focus goes to what it says, not to the page top.
  // The current page's nav link is scrolled into view: on a phone the nav scrolls sideways.
  if (window.htmx) {
    htmx.onLoad(function (elt) {
      if (elt === document.body) {
        var current = document.querySelector(".mainnav [aria-current]");
        var nav = current && current.parentNode;
        // Sideways only: scrollIntoView would also scroll the page away from a #fragment.
        if (nav && nav.scrollWidth > nav.clientWidth &&
            current.offsetLeft + current.offsetWidth > nav.scrollLeft + nav.clientWidth) {
          nav.scrollLeft = current.offsetLeft + current.offsetWidth - nav.clientWidth;
        }
        return;
      }
      var focus = elt.matches && elt.matches(".request-item") ? elt.querySelector("[data-focus]") : null;
      if (focus) focus.focus();
    });
  }
})();
