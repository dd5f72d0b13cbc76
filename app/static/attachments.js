// Attachment uploads: send the chosen files with XMLHttpRequest so the progress bar can follow
// the upload, then go where the server says (the record's page) or show its refusal. Without
// JavaScript the form posts as usual.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-attachment-upload]");
  Array.prototype.forEach.call(forms, function (form) {
    if (form.dataset.bound === "yes") {
      return;
    }
    form.dataset.bound = "yes";
    var input = form.querySelector('input[type="file"]');
    var meter = form.querySelector('[data-field="progress"]');
    var bar = meter.querySelector(".progress-bar");
    var errors = form.querySelector('[data-field="errors"]');
    var button = form.querySelector('button[type="submit"]');

    function show(percent) {
      bar.className = bar.className.replace(/\bpct-\d+\b/, "pct-" + percent);
      bar.textContent = percent + " %";
      meter.setAttribute("aria-valuenow", String(percent));
    }

    function refuse(messages) {
      errors.textContent = "";
      messages.forEach(function (message) {
        var line = document.createElement("div");
        line.textContent = message;
        errors.appendChild(line);
      });
      input.classList.add("is-invalid");
      meter.classList.add("d-none");
      button.disabled = false;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      input.classList.remove("is-invalid");
      errors.textContent = "";
      show(0);
      meter.classList.remove("d-none");
      button.disabled = true;
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", function (progress) {
        if (progress.lengthComputable) {
          show(Math.min(100, Math.floor((progress.loaded / progress.total) * 100)));
        }
      });
      request.addEventListener("load", function () {
        var answer = null;
        try {
          answer = JSON.parse(request.responseText);
        } catch (error) {
          answer = null;
        }
        if (request.status === 200 && answer && answer.ok) {
          show(100);
          form.dataset.uploaded = "yes";
          var target = new URL(answer.redirect, window.location.href);
          if (target.pathname === window.location.pathname && target.search === window.location.search) {
            window.location.hash = target.hash;
            window.location.reload();
          } else {
            window.location.assign(target.href);
          }
        } else if (answer && answer.errors) {
          refuse(answer.errors);
        } else {
          refuse(["The upload failed (HTTP " + request.status + "). Try again."]);
        }
      });
      request.addEventListener("error", function () {
        refuse(["The connection was lost during the upload. Try again."]);
      });
      request.send(new FormData(form));
    });
  });
})();
