// The customer picker on complaint forms. Without JavaScript the form keeps its plain <select> of
// customers. With it, each <select data-customer-picker="URL"> becomes a searchable combobox
// (WAI-ARIA "combobox with listbox popup"): type part of a name or external id, move with the
// arrow keys, choose with Enter or a click, close with Escape. Matches come from the JSON search
// at URL (?q=...). The select stays in the form, hidden, and carries the chosen customer's id.
(function () {
  "use strict";

  var DELAY_MS = 150;

  function enhance(select, index) {
    var url = select.getAttribute("data-customer-picker");
    var noneValue = select.options.length ? select.options[0].value : "";
    var baseId = select.id || "customer-picker-" + index;

    var wrapper = document.createElement("div");
    wrapper.className = "customer-picker";
    var input = document.createElement("input");
    input.type = "text";
    input.id = baseId + "-search";
    input.className = "form-control" + (select.classList.contains("is-invalid") ? " is-invalid" : "");
    input.autocomplete = "off";
    input.spellcheck = false;
    input.placeholder = "Type to search customers";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", baseId + "-options");
    if (select.getAttribute("aria-describedby")) {
      input.setAttribute("aria-describedby", select.getAttribute("aria-describedby"));
    }
    var list = document.createElement("ul");
    list.id = baseId + "-options";
    list.className = "customer-picker-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");

    var label = select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
    if (label) {
      label.setAttribute("for", input.id);
      list.setAttribute("aria-label", label.textContent.trim());
    }
    select.hidden = true;
    select.tabIndex = -1;
    select.setAttribute("aria-hidden", "true");
    select.parentNode.insertBefore(wrapper, select);
    wrapper.appendChild(input);
    wrapper.appendChild(list);
    wrapper.appendChild(status);

    var results = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    function chosenLabel() {
      var option = select.options[select.selectedIndex];
      return option && option.value !== noneValue ? option.text : "";
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(position) {
      var items = list.querySelectorAll('[role="option"]');
      if (!items.length) {
        return;
      }
      active = (position + items.length) % items.length;
      Array.prototype.forEach.call(items, function (item, i) {
        item.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function choose(result) {
      var value = String(result.id);
      var known = Array.prototype.some.call(select.options, function (option) {
        return option.value === value;
      });
      if (!known) {
        select.add(new Option(result.label, value));
      }
      select.value = value;
      input.value = result.label;
      status.textContent = result.label + " chosen.";
      close();
    }

    function show(found, more) {
      results = found;
      list.textContent = "";
      found.forEach(function (result, i) {
        var item = document.createElement("li");
        item.id = baseId + "-option-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.textContent = result.label;
        item.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the input
          choose(result);
        });
        list.appendChild(item);
      });
      list.hidden = found.length === 0;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      active = -1;
      status.textContent = found.length
        ? found.length + (more ? "+" : "") + " customers found; use the arrow keys to choose."
        : "No customer matches.";
    }

    function search() {
      var ticket = ++asked;
      fetch(url + "?q=" + encodeURIComponent(input.value.trim()), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (body) {
          if (ticket === asked) {
            show(body.results || [], Boolean(body.more));
          }
        })
        .catch(function () {
          status.textContent = "The customer search is not answering; try again.";
        });
    }

    input.value = chosenLabel();
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) {
          search();
        } else {
          highlight(active + (event.key === "ArrowDown" ? 1 : -1));
        }
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault(); // choose, do not send the form
        choose(results[active]);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () {
      close();
      if (input.value.trim() === "") {
        select.value = noneValue; // an emptied field means no customer
      } else {
        input.value = chosenLabel(); // typed but not chosen: show what is chosen
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-customer-picker]"), enhance);
})();
