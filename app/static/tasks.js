// A background task's page: poll its status while it runs and show the progress; when it is
// finished, reload the page to show the result and the download.
(function () {
  "use strict";
  var box = document.getElementById("task-progress");
  if (!box || box.dataset.running !== "yes") {
    return;
  }
  var bar = box.querySelector(".progress-bar");
  var meter = box.querySelector('[role="progressbar"]');
  var label = box.querySelector('[data-field="label"]');
  var failures = 0;

  function show(state) {
    bar.className = bar.className.replace(/\bpct-\d+\b/, "pct-" + state.percent);
    bar.textContent = state.percent + " %";
    meter.setAttribute("aria-valuenow", String(state.percent));
    var text = state.label;
    if (state.step) {
      text += ": " + state.step;
    }
    if (state.total) {
      text += " (" + state.done.toLocaleString("en") + " of " + state.total.toLocaleString("en") + ")";
    }
    label.textContent = text;
  }

  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (state) {
        failures = 0;
        show(state);
        if (state.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        failures += 1;
        label.textContent = "Connection problem, retrying";
        window.setTimeout(poll, Math.min(30000, 1000 * failures));
      });
  }

  window.setTimeout(poll, 500);
})();
