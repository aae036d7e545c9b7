// The board: drag and drop (SortableJS), the keyboard/touch move menu, lost and won dialogs,
// snap-back of refused moves, and the live refresh. No inline script (strict CSP).
(function () {
  "use strict";

  var pending = null;      // the move waiting for the server: {item, from, oldIndex}
  var dragging = false;

  function byId(id) { return document.getElementById(id); }

  function cardName(item) {
    var link = item.querySelector(".card-name");
    return link ? link.textContent.trim() : "";
  }

  function revert() {
    if (!pending) return;
    var from = pending.from, item = pending.item;
    from.insertBefore(item, from.children[pending.oldIndex] || null);
    pending = null;
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

  // One path for a drop and for the menu: the card is already in its new column. Taking a card out
  // of a won or lost column reopens it: confirmed first (when the person may; the server refuses
  // otherwise), then the target's own question.
  function proposeMove(item, from, oldIndex, to) {
    pending = {item: item, from: from, oldIndex: oldIndex};
    var closed = from.dataset.stageKind, extra = {};
    if ((closed === "won" || closed === "lost") && to.dataset.stageKind !== closed && byId("reopen-dialog")) {
      ask("reopen-dialog", item, function () { extra.reopen = true; askForTarget(item, to, extra); });
    } else {
      askForTarget(item, to, extra);
    }
  }

  function askForTarget(item, to, extra) {
    var kind = to.dataset.stageKind;
    if (kind === "lost") {
      ask("lost-dialog", item, function (reason) { extra.lostReason = reason; submitMove(item, to, extra); });
    } else if (kind === "won") {
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
      onStart: function () { dragging = true; },
      onEnd: function (evt) {
        dragging = false;
        if (evt.to === evt.from) return;  // the order inside a column is the server's (urgency)
        proposeMove(evt.item, evt.from, evt.oldIndex, evt.to);
      }
    });
  }

  htmx.onLoad(function (root) {
    var lists = root.matches && root.matches("ol.cards") ? [root] : root.querySelectorAll("ol.cards");
    lists.forEach(initSortable);
  });

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
    if (!to || to === from) return;
    var oldIndex = Array.prototype.indexOf.call(from.children, item);
    to.insertBefore(item, to.firstChild);
    proposeMove(item, from, oldIndex, to);
  });

  // After the server answered a move: a refusal puts the card back where it was.
  function afterMoveAnswer(root) {
    var refused = root.matches("[data-refused]") ? root : root.querySelector("[data-refused]");
    if (refused) {
      revert();
      if (refused.dataset.code === "conflict") refresh();
    } else {
      pending = null;
    }
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
    }
  });
  document.addEventListener("keydown", function (event) {
    var panel = byId("panel");
    if (event.key === "Escape" && panel && !panel.hidden && !document.querySelector("dialog[open]")) {
      panel.hidden = true;
    }
  });
})();
