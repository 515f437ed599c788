/* Small page behaviours declared in the markup, so templates carry no inline handlers
 * (the Content-Security-Policy allows no inline script):
 *   <select data-autosubmit>            submits its form when changed (language switch);
 *   <button data-remove-closest="form"> removes the nearest enclosing element matching the
 *                                        selector (closing an inline form).
 */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("[data-autosubmit]") && target.form) {
      target.form.submit();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("[data-remove-closest]") : null;
    if (!button) return;
    var doomed = button.closest(button.getAttribute("data-remove-closest"));
    if (doomed) doomed.remove();
  });
})();
