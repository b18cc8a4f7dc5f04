// mailroom console: the little script there is. Forms with data-confirm
// ask before they submit (revoking a grant, dropping a recipient). Times
// come in UTC (<time datetime>, a chart's data-start); they are rewritten
// in the viewer's time zone, and the page says which zone that is.
document.addEventListener('submit', function (e) {
  var msg = e.target.getAttribute('data-confirm');
  if (msg && !window.confirm(msg)) {
    e.preventDefault();
  }
});

(function () {
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function hm(d) { return pad(d.getHours()) + ':' + pad(d.getMinutes()); }
  function full(d) {
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + hm(d) + ':' + pad(d.getSeconds());
  }
  function parse(s) { var d = new Date(s); return isNaN(d.getTime()) ? null : d; }
  var zone = (Intl.DateTimeFormat().resolvedOptions().timeZone) || 'local time';
  var off = -new Date().getTimezoneOffset();
  var utc = 'UTC' + (off < 0 ? '−' : '+') + pad(Math.floor(Math.abs(off) / 60)) + ':' + pad(Math.abs(off) % 60);
  document.querySelectorAll('time[datetime]').forEach(function (el) {
    var d = parse(el.getAttribute('datetime'));
    if (d) { el.title = el.textContent; el.textContent = full(d); }
  });
  document.querySelectorAll('.chart .hour[data-start]').forEach(function (el) {
    var d = parse(el.getAttribute('data-start'));
    if (d) { el.textContent = hm(d); }
  });
  document.querySelectorAll('.chart .bar[data-start] title[data-rest]').forEach(function (el) {
    var d = parse(el.parentNode.getAttribute('data-start'));
    if (d) { el.textContent = full(d).slice(0, 16) + ' to ' + hm(new Date(d.getTime() + 3600000)) + ': ' + el.getAttribute('data-rest'); }
  });
  document.querySelectorAll('.zone').forEach(function (el) { el.textContent = zone + ' (' + utc + ')'; });
  var tz = document.getElementById('tz');
  if (tz) { tz.textContent = 'Times are shown in ' + zone + ' (' + utc + '), this browser\'s time zone.'; }
}());
