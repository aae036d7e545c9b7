// The board: drag and drop (SortableJS), the keyboard/touch move menu, lost and won dialogs,
// snap-back of refused moves, the live refresh, the keyboard inside the board (one tab stop, arrow
// keys between cards and columns), folded won/lost columns and the phone's folded filters.
// No inline script (strict CSP).
(function () {
  "use strict";

  var pending = null;      // the move waiting for the server: {item, from, oldIndex}
  var dragging = false;
  var activeId = null;     // the card that holds the board's one tab stop
  var expanded = {};       // won/lost columns unfolded by a person (stage id -> true), kept across refreshes

  function byId(id) { return document.getElementById(id); }

  function cardName(item) {
    var link = item.querySelector(".card-name");
    return link ? link.textContent.trim() : "";
  }

  // --- the keyboard: a roving tab stop -------------------------------------------------------------
  // One card of the board is in the Tab order (with its own links and buttons); the others are
  // reached with the arrow keys. The server renders no tabindex: a live refresh (morph) resets them,
  // so they are set again after every swap.

  function visible(el) { return !!(el && el.offsetParent !== null); }

  function cardsOf(list) {
    return Array.prototype.filter.call(list.querySelectorAll(":scope > .board-card"), visible);
  }

  function lists() {
    return Array.prototype.filter.call(document.querySelectorAll("#board-columns ol.cards"), function (list) {
      return cardsOf(list).length > 0;
    });
  }

  function setTabStop(card) {
    var board = byId("board-columns");
    if (!board) return;
    board.querySelectorAll(".board-card").forEach(function (other) {
      var on = other === card;
      other.tabIndex = on ? 0 : -1;
      other.querySelectorAll("a, button").forEach(function (control) { control.tabIndex = on ? 0 : -1; });
    });
    if (card) activeId = card.id;
  }

  function rove() {
    var board = byId("board-columns");
    if (!board) return;
    board.querySelectorAll("section.is-collapsible").forEach(function (column) {
      column.classList.toggle("is-expanded", !!expanded[column.id]);
      var toggle = column.querySelector(".column-toggle");
      var list = column.querySelector("ol.cards");
      if (toggle && list) toggle.setAttribute("aria-expanded", String(getComputedStyle(list).display !== "none"));
    });
    var card = activeId && byId(activeId);
    if (!visible(card)) {
      var first = lists()[0];
      card = first ? cardsOf(first)[0] : null;
    }
    setTabStop(card || null);
  }

  function unfold(column) {
    if (column && column.classList.contains("is-collapsible")) {
      expanded[column.id] = true;
      column.classList.add("is-expanded");
    }
  }

  function focusCard(card) {
    if (!card) return;
    unfold(card.closest("section"));
    setTabStop(card);
    card.focus();
    rove();
  }

  function neighbour(card, key) {
    var list = card.parentElement, own = cardsOf(list), index = own.indexOf(card);
    if (key === "ArrowUp") return own[index - 1];
    if (key === "ArrowDown") return own[index + 1];
    if (key === "Home") return own[0];
    if (key === "End") return own[own.length - 1];
    var all = lists(), at = all.indexOf(list);
    var next = all[at + (key === "ArrowRight" ? 1 : -1)];
    if (!next) return null;
    var there = cardsOf(next);
    return there[Math.min(index, there.length - 1)];
  }

  document.addEventListener("keydown", function (event) {
    var card = event.target;
    if (!card.classList || !card.classList.contains("board-card") || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "Enter") {
      event.preventDefault();
      var name = card.querySelector(".card-name");
      if (name) name.click();
      return;
    }
    if (["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End"].indexOf(event.key) < 0) return;
    event.preventDefault();
    var target = neighbour(card, event.key);
    if (target) {
      setTabStop(target);
      target.focus();
      target.scrollIntoView({block: "nearest", inline: "nearest"});
    }
  });
  // A click or a Tab into a card's link makes that card the tab stop.
  document.addEventListener("focusin", function (event) {
    var card = event.target.closest && event.target.closest("#board-columns .board-card");
    if (card && card.id !== activeId) setTabStop(card);
  });

  // Won and lost columns: folded on a desktop (relance.css) until unfolded here or during a drag.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".column-toggle");
    if (!toggle) return;
    var column = toggle.closest("section");
    if (expanded[column.id]) delete expanded[column.id];
    else expanded[column.id] = true;
    rove();
  });

  // --- moves ------------------------------------------------------------------------------------

  function revert() {
    if (!pending) return;
    var from = pending.from, item = pending.item;
    from.insertBefore(item, from.children[pending.oldIndex] || null);
    pending = null;
    focusCard(item);
  }

  function submitMove(item, to, extra) {
    var form = byId("move-form");
    form.elements.prospect_id.value = item.dataset.id;
    form.elements.version.value = item.dataset.version;
    form.elements.stage_id.value = to.dataset.stageId;
    form.elements.lost_reason.value = (extra && extra.lostReason) || "";
    form.elements.confirm.value = (extra && extra.confirm) ? "1" : "";
    if (form.elements.reopen) form.elements.reopen.value = (extra && extra.reopen) ? "1" : "";
    form.requestSubmit();
  }

  function ask(dialogId, item, onConfirm) {
    var dialog = byId(dialogId);
    dialog.querySelectorAll("[data-dialog-name]").forEach(function (el) { el.textContent = cardName(item); });
    var select = dialog.querySelector("select");
    if (select) select.value = "";
    dialog.returnValue = "";
    dialog.addEventListener("close", function handler() {
      dialog.removeEventListener("close", handler);
      if (dialog.returnValue === "confirm" && (!select || select.value)) {
        onConfirm(select ? select.value : null);
      } else {
        revert();
      }
    });
    dialog.showModal();
  }

  // One path for a drop and for the menu: the card is already in its new column. `given` holds what
  // the menu already said (a lost reason, the conversion or the reopening confirmed): no dialog asks
  // it again. Taking a card out of a won or lost column reopens it: confirmed first (when the person
  // may; the server refuses otherwise), then the target's own question.
  function proposeMove(item, from, oldIndex, to, given) {
    pending = {item: item, from: from, oldIndex: oldIndex};
    var closed = from.dataset.stageKind, extra = Object.assign({}, given || {});
    if ((closed === "won" || closed === "lost") && to.dataset.stageKind !== closed && !extra.reopen &&
        byId("reopen-dialog")) {
      ask("reopen-dialog", item, function () { extra.reopen = true; askForTarget(item, to, extra); });
    } else {
      askForTarget(item, to, extra);
    }
  }

  function askForTarget(item, to, extra) {
    var kind = to.dataset.stageKind;
    if (kind === "lost" && !extra.lostReason) {
      ask("lost-dialog", item, function (reason) { extra.lostReason = reason; submitMove(item, to, extra); });
    } else if (kind === "won" && !extra.confirm) {
      ask("won-dialog", item, function () { extra.confirm = true; submitMove(item, to, extra); });
    } else {
      submitMove(item, to, extra);
    }
  }

  function initSortable(list) {
    if (list.dataset.sortable || typeof Sortable === "undefined") return;
    list.dataset.sortable = "1";
    Sortable.create(list, {
      group: "board",
      draggable: ".board-card",
      filter: ".cards-more, a, button",
      preventOnFilter: false,
      forceFallback: true,   // the same drag for mouse and touch
      fallbackTolerance: 4,
      animation: 120,
      onStart: function () {
        dragging = true;
        byId("board-columns").classList.add("is-dragging");  // folded columns open to take the drop
      },
      onEnd: function (evt) {
        dragging = false;
        byId("board-columns").classList.remove("is-dragging");
        if (evt.to === evt.from) return;  // the order inside a column is the server's (urgency)
        unfold(evt.to.closest("section"));
        proposeMove(evt.item, evt.from, evt.oldIndex, evt.to);
      }
    });
  }

  htmx.onLoad(function (root) {
    var found = root.matches && root.matches("ol.cards") ? [root] : root.querySelectorAll("ol.cards");
    found.forEach(initSortable);
    rove();
  });
  document.addEventListener("htmx:after:swap", rove);
  document.addEventListener("htmx:after:settle", rove);

  // The keyboard and touch way: the move form shown in the dialog does what a drop does.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "move-menu-form" || !byId("move-form")) return;
    var choice = form.querySelector('input[name="stage_id"]:checked');
    var item = byId("card-" + form.elements.prospect_id.value);
    if (!choice || !item) return;  // not on the board: the plain form posts
    event.preventDefault();
    byId("app-dialog").close();
    var from = item.parentElement, to = byId("cards-" + choice.value);
    if (!to || to === from) {
      focusCard(item);
      return;
    }
    var oldIndex = Array.prototype.indexOf.call(from.children, item);
    to.insertBefore(item, to.firstChild);
    unfold(to.closest("section"));
    proposeMove(item, from, oldIndex, to, {
      lostReason: form.elements.lost_reason.value,
      confirm: form.elements.confirm.checked,
      reopen: Boolean(form.elements.reopen && form.elements.reopen.checked)
    });
  });

  // After the server answered a move: a refusal puts the card back where it was; either way the
  // focus stays on the card (the answer swaps it out of band, after this: hence the timeout).
  function afterMoveAnswer(root) {
    var refused = root.matches("[data-refused]") ? root : root.querySelector("[data-refused]");
    var id = pending ? pending.item.id : null;
    if (refused) {
      revert();
      if (refused.dataset.code === "conflict") refresh();
    } else {
      pending = null;
    }
    if (id) setTimeout(function () { focusCard(byId(id)); }, 0);
  }

  // Live: the poll answers with a "board-changed" event; refresh the columns in place, keeping
  // how many cards each column shows (and so its scroll), the filters and any open dialog.
  function refresh() {
    var refresher = byId("board-refresher");
    if (!refresher || dragging || pending) return;
    var loaded = [];
    document.querySelectorAll("ol.cards").forEach(function (list) {
      loaded.push(list.dataset.stageId + ":" + list.querySelectorAll(".board-card").length);
    });
    byId("board-loaded").elements.loaded.value = loaded.join(",");
    htmx.trigger(refresher, "board-refresh");
  }
  document.addEventListener("board-changed", refresh);

  // A change saved in the side panel (temperature, an interaction, a follow-up) shows on the card
  // behind it at once: the columns are refreshed as a live change would refresh them (filters, order
  // and counts included), without waiting for the poll.
  var panelChanged = false;
  document.addEventListener("submit", function (event) {
    if (event.target.closest && event.target.closest("#panel")) panelChanged = true;
  }, true);

  // What htmx brings in decides what opens: a form in the dialog, a record in the side panel.
  htmx.onLoad(function (root) {
    if (!root.closest || root === document.body) return;
    if (root.closest("#board-status")) {
      afterMoveAnswer(root);
    } else if (root.closest("#dialog-body")) {
      var dialog = byId("app-dialog");
      if (!dialog.open) dialog.showModal();
    } else if (root.closest("#panel-body")) {
      byId("panel").hidden = false;
      if (panelChanged) {
        panelChanged = false;
        refresh();
      }
    }
  });
  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-closes-dialog]");
    if (closer && closer.closest("dialog")) {
      event.preventDefault();
      closer.closest("dialog").close();
    }
    if (event.target.closest("[data-closes-panel]")) {
      byId("panel").hidden = true;
      focusCard(activeId && byId(activeId));
    }
  });
  document.addEventListener("keydown", function (event) {
    var panel = byId("panel");
    if (event.key === "Escape" && panel && !panel.hidden && !document.querySelector("dialog[open]")) {
      panel.hidden = true;
      focusCard(activeId && byId(activeId));
    }
  });
  // The move menu closed without a move (Cancel, Escape, ✕): back to the card it was opened from.
  document.addEventListener("close", function (event) {
    if (event.target.id === "app-dialog" && byId("move-menu-form") && !pending && activeId) {
      setTimeout(function () {
        if (!pending && !document.querySelector("dialog[open]")) focusCard(byId(activeId));
      }, 0);
    }
  }, true);

  // --- the phone's filters: folded behind "Filters (n)", n the filters set besides the search --------
  function countFilters(form) {
    var n = 0;
    form.querySelectorAll("#board-filter-more select").forEach(function (select) { if (select.value) n += 1; });
    var count = form.querySelector(".filters-count");
    if (count) count.textContent = n ? " (" + n + ")" : "";
  }
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".filters-toggle");
    if (!toggle) return;
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    toggle.closest("form").classList.toggle("is-open", open);
  });
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("#board-filters");
    if (form) countFilters(form);
  });
})();
