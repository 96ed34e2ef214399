/**
 * The report page's own script, inlined after Chart.js. Plain ES2017 kept as
 * a string so that no bundler or test transform can rewrite it (its SHA-256
 * goes into the page's Content-Security-Policy).
 *
 * It reads the model from `<script type="application/json" id="report-data">`
 * and draws the charts. Every label is handed to Chart.js, which paints text
 * on a canvas: no data string ever becomes HTML.
 */
export const CLIENT_SCRIPT = `(function () {
  'use strict';
  var dataEl = document.getElementById('report-data');
  if (!dataEl || typeof window.Chart === 'undefined') return;
  var Chart = window.Chart;
  var model = JSON.parse(dataEl.textContent || '{}');
  var charts = model.charts || {};
  var PALETTE = [[0, 114, 178], [230, 159, 0], [0, 158, 115], [204, 121, 167], [86, 180, 233],
    [213, 94, 0], [120, 94, 240], [100, 100, 100]];
  function color(i, alpha) {
    var c = PALETTE[i % PALETTE.length];
    return 'rgba(' + c[0] + ',' + c[1] + ',' + c[2] + ',' + alpha + ')';
  }
  function iso(ms) {
    var d = new Date(ms);
    return isNaN(d.getTime()) ? '' : d.toISOString();
  }
  function hhmm(ms) { return iso(ms).slice(11, 16); }
  function hhmmss(ms) { return iso(ms).slice(11, 19); }
  var STEPS = [60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3, 10800e3, 21600e3, 43200e3, 86400e3];
  // All three charts share one x axis: the report window, rounded out to whole tick steps,
  // so that a spike can be read straight down the page.
  function timeAxis(minMs, maxMs, title) {
    var w = model.window || {};
    if (isFinite(w.startMs) && isFinite(w.endMs) && w.endMs > w.startMs) { minMs = w.startMs; maxMs = w.endMs; }
    if (!isFinite(minMs) || !isFinite(maxMs)) {
      return { type: 'linear', title: { display: true, text: title }, ticks: { callback: function (v) { return hhmm(v); } } };
    }
    var span = Math.max(1, maxMs - minMs);
    var step = STEPS[STEPS.length - 1];
    for (var i = 0; i < STEPS.length; i++) {
      if (span / STEPS[i] <= 10) { step = STEPS[i]; break; }
    }
    var lo = Math.floor(minMs / step) * step, hi = Math.ceil(maxMs / step) * step;
    if (hi === lo) hi = lo + step;
    return {
      type: 'linear', min: lo, max: hi, offset: false, grid: { offset: false },
      title: { display: true, text: title },
      ticks: { stepSize: step, maxRotation: 0, callback: function (v) { return hhmm(v); } }
    };
  }
  function extent(xs) {
    var lo = Infinity, hi = -Infinity;
    xs.forEach(function (t) { if (isFinite(t)) { if (t < lo) lo = t; if (t > hi) hi = t; } });
    return [lo, hi];
  }
  // Same y-axis width everywhere, so the three plot areas line up.
  function fixedWidth(scale) { scale.width = 64; }
  function tooltipTitle(items) {
    return items.length ? hhmmss(items[0].parsed.x) + ' UTC' : '';
  }
  function fail(canvas, err) {
    console.error('throttlescope report: chart failed', err);
    var note = document.createElement('p');
    note.className = 'chart-error';
    note.textContent = 'This chart could not be drawn: ' + (err && err.message ? err.message : String(err));
    canvas.parentNode.insertBefore(note, canvas);
  }
  function finite(v) { return typeof v === 'number' && isFinite(v) ? v : null; }
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  Chart.defaults.color = '#222';
  var made = [];

  var errCanvas = document.getElementById('chart-errors');
  var e = charts.errorsByReason;
  if (errCanvas && e) {
    try {
      var ex = extent(e.minutesMs);
      made.push(new Chart(errCanvas, {
        type: 'bar',
        data: {
          datasets: e.series.map(function (s, i) {
            return {
              label: String(s.reason),
              data: e.minutesMs.map(function (t, j) { return { x: t + 30e3, y: finite(s.counts[j]) }; }),
              backgroundColor: color(i, 0.85), borderWidth: 0, stack: 'errors',
              barPercentage: 1, categoryPercentage: 0.85
            };
          })
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          interaction: { mode: 'index', intersect: false },
          scales: {
            x: Object.assign(timeAxis(ex[0], ex[1] + 60e3, 'minute (UTC)'), { stacked: true }),
            y: { afterFit: fixedWidth, stacked: true, beginAtZero: true, title: { display: true, text: '5xx responses' }, ticks: { precision: 0 } }
          },
          plugins: {
            legend: { position: 'bottom' },
            tooltip: { callbacks: { title: function (items) {
              return items.length ? hhmm(items[0].parsed.x - 30e3) + ' UTC' : '';
            } } }
          }
        }
      }));
    } catch (err) { fail(errCanvas, err); }
  }

  var ccCanvas = document.getElementById('chart-concurrency');
  var c = charts.concurrency;
  if (ccCanvas && c) {
    try {
      var cx = extent(c.timesMs);
      var cAxis = timeAxis(cx[0], cx[1], 'time (UTC)');
      var t0 = isFinite(cAxis.min) ? cAxis.min : cx[0], t1 = isFinite(cAxis.max) ? cAxis.max : cx[1];
      var cds = c.series.map(function (s, i) {
        return {
          label: String(s.function),
          data: c.timesMs.map(function (t, j) { return { x: t, y: finite(s.values[j]) }; }),
          borderColor: color(i, 1), backgroundColor: color(i, 0.35), borderWidth: 1,
          fill: i === 0 ? 'origin' : '-1', stack: 'functions', pointRadius: 0, tension: 0
        };
      });
      var limit = finite(c.accountLimit);
      if (limit !== null && c.timesMs.length) {
        cds.push({
          label: 'account limit (' + limit + ')',
          data: [{ x: t0, y: limit }, { x: t1, y: limit }],
          borderColor: '#b00020', backgroundColor: '#b00020', borderDash: [6, 4], borderWidth: 2,
          fill: false, stack: 'limit', pointRadius: 0
        });
      }
      made.push(new Chart(ccCanvas, {
        type: 'line',
        data: { datasets: cds },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false, parsing: true,
          interaction: { mode: 'nearest', axis: 'x', intersect: false },
          scales: {
            x: cAxis,
            y: { afterFit: fixedWidth, stacked: true, beginAtZero: true, suggestedMax: limit === null ? undefined : limit * 1.1,
              title: { display: true, text: 'concurrent executions' }, ticks: { precision: 0 } }
          },
          plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { title: tooltipTitle } } }
        }
      }));
    } catch (err) { fail(ccCanvas, err); }
  }

  var prCanvas = document.getElementById('chart-probe');
  var p = charts.probe;
  if (prCanvas && p) {
    try {
      var boxes = [];
      var pts = [];
      var pds = p.urls.map(function (u, i) {
        pts = pts.concat(u.timesMs);
        u.episodes.forEach(function (ep) { boxes.push({ start: ep.startMs, end: ep.endMs, color: color(i, 0.2) }); });
        return {
          label: String(u.url),
          data: u.timesMs.map(function (t, j) {
            var r = finite(u.successRate[j]);
            return { x: t, y: r === null ? null : r * 100 };
          }),
          borderColor: color(i, 1), backgroundColor: color(i, 1), borderWidth: 1.5, pointRadius: 0,
          spanGaps: false, tension: 0
        };
      });
      var episodeBoxes = {
        id: 'episodeBoxes',
        beforeDatasetsDraw: function (chart) {
          var area = chart.chartArea, xs = chart.scales.x, ctx = chart.ctx;
          ctx.save();
          boxes.forEach(function (b) {
            var x0 = Math.max(area.left, xs.getPixelForValue(b.start));
            var x1 = Math.min(area.right, xs.getPixelForValue(b.end));
            if (!(x1 >= x0)) return;
            ctx.fillStyle = b.color;
            ctx.fillRect(x0, area.top, Math.max(2, x1 - x0), area.bottom - area.top);
          });
          ctx.restore();
        }
      };
      made.push(new Chart(prCanvas, {
        type: 'line',
        data: { datasets: pds },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          interaction: { mode: 'nearest', axis: 'x', intersect: false },
          scales: {
            x: timeAxis(extent(pts)[0], extent(pts)[1], 'time (UTC)'),
            y: { afterFit: fixedWidth, min: 0, max: 100, title: { display: true, text: 'successful requests (%)' } }
          },
          plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { title: tooltipTitle } } }
        },
        plugins: [episodeBoxes]
      }));
    } catch (err) { fail(prCanvas, err); }
  }

  var edCanvas = document.getElementById('chart-edge');
  var ed = charts.edge;
  if (edCanvas && ed) {
    try {
      var edx = extent(ed.minutesMs);
      var edSeries = [['viewer 5xx (CloudFront)', ed.viewer5xx], ['ALB 5xx', ed.alb5xx]];
      made.push(new Chart(edCanvas, {
        type: 'bar',
        data: {
          datasets: edSeries.map(function (s, i) {
            return {
              label: s[0],
              data: ed.minutesMs.map(function (t, j) { return { x: t + 30e3, y: finite(s[1][j]) }; }),
              backgroundColor: color(i === 0 ? 5 : 0, 0.85), borderWidth: 0,
              barPercentage: 1, categoryPercentage: 0.85
            };
          })
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          interaction: { mode: 'index', intersect: false },
          scales: {
            x: timeAxis(edx[0], edx[1] + 60e3, 'minute (UTC)'),
            y: { afterFit: fixedWidth, beginAtZero: true, title: { display: true, text: '5xx responses' }, ticks: { precision: 0 } }
          },
          plugins: {
            legend: { position: 'bottom' },
            tooltip: { callbacks: { title: function (items) {
              return items.length ? hhmm(items[0].parsed.x - 30e3) + ' UTC' : '';
            } } }
          }
        }
      }));
    } catch (err) { fail(edCanvas, err); }
  }

  function resizeAll() { made.forEach(function (ch) { ch.resize(); }); }
  window.addEventListener('beforeprint', resizeAll);
  window.addEventListener('afterprint', resizeAll);
})();
`;
