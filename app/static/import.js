// The import job page: while the import runs, post one step after another to the server and
// show the progress; when it is finished, reload the page to show the result.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || box.dataset.running !== "yes") {
    return;
  }
  var bar = box.querySelector(".progress-bar");
  var meter = box.querySelector('[role="progressbar"]');
  var label = box.querySelector('[data-field="label"]');
  var position = box.querySelector('[data-field="position"]');
  var failures = 0;

  function show(state) {
    bar.className = bar.className.replace(/\bpct-\d+\b/, "pct-" + state.percent);
    bar.textContent = state.percent + " %";
    meter.setAttribute("aria-valuenow", String(state.percent));
    label.textContent = state.label;
    position.textContent = state.position.toLocaleString("en");
  }

  function step() {
    fetch(box.dataset.stepUrl, {
      method: "POST",
      headers: { "X-CSRFToken": box.dataset.csrf, Accept: "application/json" },
      credentials: "same-origin",
    })
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
          step();
        }
      })
      .catch(function () {
        failures += 1;
        label.textContent = "Connection problem, retrying";
        window.setTimeout(step, Math.min(30000, 1000 * failures));
      });
  }

  step();
})();
