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

  // Artifact uploads. With tus-js-client loaded (static/vendor, MIT licence beside it) the file goes
  // up as a resumable tus upload: it survives a dropped connection, a sleeping laptop and a reload
  // (choose the same file again), retries with backoff, and can be paused. Without it, the file goes
  // to the JSON API in one request; without any script, the form posts to the page.
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
      var status = box.querySelector(".ws-upload-status");
      var pause = box.querySelector(".ws-pause");
      var resume = box.querySelector(".ws-resume");
      var button = form.querySelector("button[type=submit]");

      function say(message) {
        error.textContent = "";
        if (message) {
          var p = document.createElement("p");
          p.textContent = message;
          error.appendChild(p);
        }
      }
      function note(message) {
        if (status) {
          status.textContent = message || "";
        }
      }
      function show(pct) {
        bar.value = pct;
        text.textContent = pct + "%";
      }
      function fail(message) {
        box.hidden = true;
        button.disabled = false;
        say(message);
        note("");
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
      function refusal(status, body) {
        var message = "The upload failed (HTTP " + status + "). Try again.";
        try {
          var problem = JSON.parse(body);
          var why = (problem.errors && problem.errors[0] && problem.errors[0].message) || problem.detail;
          if (why) {
            message = "The file was refused: " + why + ".";
          }
        } catch (ignored) {
          // not a problem document: keep the generic message
        }
        return message;
      }
      function finished(sum) {
        bar.value = 100;
        text.textContent = "Uploaded";
        var done = form.getAttribute("data-done");
        window.location.assign(sum ? done + "?uploaded=" + encodeURIComponent(sum) : done);
      }

      if (!input.files || input.files.length === 0) {
        fail("Choose a file to upload.");
        return;
      }
      var file = input.files[0];
      say("");
      note("");
      input.removeAttribute("aria-invalid");
      show(0);
      box.hidden = false;
      button.disabled = true;

      if (window.tus && window.tus.isSupported && form.getAttribute("data-tus")) {
        resumable(file);
        return;
      }

      var data = new FormData();
      data.append("file", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("data-api"));
      xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          show(Math.round((100 * e.loaded) / e.total));
        }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status === 201) {
          finished(JSON.parse(xhr.responseText).sha256);
          return;
        }
        fail(refusal(xhr.status, xhr.responseText));
      });
      xhr.addEventListener("error", function () {
        fail("The upload was interrupted. Check the connection and try again.");
      });
      xhr.send(data);

      function resumable(file) {
        var practice = form.getAttribute("data-practice");
        var running = false;
        var upload = new window.tus.Upload(file, {
          endpoint: form.getAttribute("data-tus"),
          headers: { "X-CSRF-Token": form.getAttribute("data-csrf") },
          metadata: { practice: practice, filename: file.name },
          // Wait longer each time; a school network can be gone for minutes.
          retryDelays: [1000, 2000, 4000, 8000, 15000, 30000, 60000, 60000, 60000, 60000],
          removeFingerprintOnSuccess: true,
          // The same file chosen again for the same practice resumes where it stopped.
          fingerprint: function (f) {
            return Promise.resolve(["brightspots", practice, f.name, f.type, f.size, f.lastModified].join("/"));
          },
          onProgress: function (sent, total) {
            show(Math.floor((100 * sent) / total));
          },
          onShouldRetry: function (err) {
            var res = err.originalResponse;
            var code = res ? res.getStatus() : 0;
            var retry = code === 0 || code >= 500 || code === 409 || code === 423 || code === 429;
            if (retry && navigator.onLine !== false) {
              note("The connection dropped; trying again…");
            }
            return retry;
          },
          onSuccess: function (payload) {
            running = false;
            var res = payload && payload.lastResponse;
            finished(res ? res.getHeader("Artifact-Sha256") : "");
          },
          onError: function (err) {
            running = false;
            var res = err.originalResponse;
            if (res && res.getStatus() >= 400) {
              fail(refusal(res.getStatus(), res.getBody()));
            } else {
              fail("The upload stopped: the connection failed too often. Choose the same file and upload again to continue where it stopped.");
            }
            pauseButtons(false);
          }
        });
        function pauseButtons(on) {
          if (pause && resume) {
            pause.hidden = !on || !running;
            resume.hidden = !on || running;
          }
        }
        function start() {
          running = true;
          pauseButtons(true);
          upload.start();
        }
        function stop(message) {
          running = false;
          upload.abort();
          pauseButtons(true);
          note(message);
        }
        if (pause && resume) {
          pause.onclick = function () {
            stop("Paused. Choose Resume to continue.");
            resume.focus();
          };
          resume.onclick = function () {
            note("");
            start();
            pause.focus();
          };
        }
        window.addEventListener("offline", function () {
          if (running) {
            stop("Paused — will continue when you are back online.");
          }
        });
        window.addEventListener("online", function () {
          if (!running && status && status.textContent.indexOf("back online") >= 0) {
            note("Back online: continuing…");
            start();
          }
        });
        window.addEventListener("beforeunload", function (e) {
          if (running) {
            e.preventDefault();
            e.returnValue = "";
          }
        });
        upload.findPreviousUploads().then(function (previous) {
          if (previous.length > 0) {
            upload.resumeFromPreviousUpload(previous[0]);
            note("Continuing the upload of this file that stopped before.");
          }
          if (navigator.onLine === false) {
            pauseButtons(true);
            note("Paused — will continue when you are back online.");
            return;
          }
          start();
        });
      }
    });
  });
})();
