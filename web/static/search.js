// Search page, progressive enhancement: a filter or the sort order applies as soon as it changes,
// and focus returns to that control after the page reloads. Without this script the "Apply
// filters" and "Sort" buttons do the same.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form) return;
  var key = "bs-refocus";
  try {
    var id = sessionStorage.getItem(key);
    if (id) {
      sessionStorage.removeItem(key);
      var el = document.getElementById(id);
      if (el) el.focus();
    }
  } catch (e) { /* storage may be disabled: focus simply starts at the top */ }
  var hint = document.getElementById("auto-hint");
  if (hint) hint.hidden = false;
  form.addEventListener("change", function (ev) {
    var t = ev.target;
    if (!t || !t.id || t.type === "search" || t.type === "text") return;
    try { sessionStorage.setItem(key, t.id); } catch (e) {}
    form.submit();
  });
})();
