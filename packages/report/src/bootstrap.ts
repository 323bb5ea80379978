/**
 * The report page's own script: reads the compiled Vega specs from the JSON data element and renders
 * each into its container (SVG). `window.mmsimReport` says how many rendered and which failed.
 * Plain ES2017, no template holes: nothing from the document is ever part of this text.
 */
export const BOOTSTRAP = `(function () {
  'use strict';
  var status = { total: 0, rendered: 0, failed: [], done: false, views: {} };
  window.mmsimReport = status;
  function fail(el, id, err) {
    status.failed.push(id + ': ' + (err && err.message ? err.message : String(err)));
    console.error('mmsim report: plot ' + id + ' failed to render', err);
    if (el) {
      var p = document.createElement('p');
      p.className = 'plot-error';
      p.textContent = 'This plot could not be rendered: ' + (err && err.message ? err.message : String(err));
      el.appendChild(p);
    }
  }
  var plots;
  try {
    plots = JSON.parse(document.getElementById('mmsim-report-plots').textContent);
  } catch (err) {
    fail(null, 'data', err);
    status.done = true;
    return;
  }
  status.total = plots.length;
  if (typeof vega === 'undefined') {
    plots.forEach(function (p) { fail(document.getElementById(p.id + '-view'), p.id, new Error('the Vega runtime did not load')); });
    status.done = true;
    return;
  }
  Promise.all(plots.map(function (p) {
    var el = document.getElementById(p.id + '-view');
    try {
      var view = new vega.View(vega.parse(p.vega), {
        renderer: 'svg',
        container: el,
        bind: document.getElementById(p.id + '-bind'),
        hover: true
      });
      return view.runAsync().then(function () {
        status.rendered++;
        status.views[p.id] = view;
      }, function (err) { fail(el, p.id, err); });
    } catch (err) {
      fail(el, p.id, err);
      return Promise.resolve();
    }
  })).then(function () { status.done = true; });
})();
`;
