// Bright Spots workspace: progressive enhancement only. Every form on these pages works without
// this file; with it, a refused form's summary of problems takes the focus, and artifact uploads
// show their progress.
(function () {
  "use strict";

  // A refused form: start at the summary of what needs attention (each entry links to its field).
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }

  // Artifact uploads go to the JSON API with the session's CSRF token in X-CSRF-Token, so the page
  // can show a progress bar and a refusal next to the file field without leaving the page.
  Array.prototype.forEach.call(document.querySelectorAll("form.ws-upload"), function (form) {
    form.addEventListener("submit", function (ev) {
      var input = form.querySelector("input[type=file]");
      var error = form.querySelector(".field-error");
      var box = form.querySelector(".ws-progress");
      if (!input || !error || !box || !window.FormData || !window.XMLHttpRequest) {
        return; // the plain multipart post to the page
      }
      ev.preventDefault();
      var bar = box.querySelector("progress");
      var text = box.querySelector(".ws-progress-text");
      var button = form.querySelector("button[type=submit]");

      function say(message) {
        error.textContent = "";
        if (message) {
          var p = document.createElement("p");
          p.textContent = message;
          error.appendChild(p);
        }
      }
      function fail(message) {
        box.hidden = true;
        button.disabled = false;
        say(message);
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }

      if (!input.files || input.files.length === 0) {
        fail("Choose a file to upload.");
        return;
      }
      var file = input.files[0];
      var data = new FormData();
      data.append("file", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("data-api"));
      xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var pct = Math.round((100 * e.loaded) / e.total);
          bar.value = pct;
          text.textContent = pct + "%";
        }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status === 201) {
          var ref = JSON.parse(xhr.responseText);
          bar.value = 100;
          text.textContent = "Uploaded";
          window.location.assign(form.getAttribute("data-done") + "?uploaded=" + encodeURIComponent(ref.sha256));
          return;
        }
        var message = "The upload failed (HTTP " + xhr.status + "). Try again.";
        try {
          var problem = JSON.parse(xhr.responseText);
          var why = (problem.errors && problem.errors[0] && problem.errors[0].message) || problem.detail;
          if (why) {
            message = "The file was refused: " + why + ".";
          }
        } catch (ignored) {
          // not a problem document: keep the generic message
        }
        fail(message);
      });
      xhr.addEventListener("error", function () {
        fail("The upload was interrupted. Check the connection and try again.");
      });
      say("");
      input.removeAttribute("aria-invalid");
      bar.value = 0;
      text.textContent = "0%";
      box.hidden = false;
      button.disabled = true;
      xhr.send(data);
    });
  });
})();
