// mailroom console: the little script there is. Forms with data-confirm
// ask before they submit (revoking a grant, dropping a recipient).
document.addEventListener('submit', function (e) {
  var msg = e.target.getAttribute('data-confirm');
  if (msg && !window.confirm(msg)) {
    e.preventDefault();
  }
});
