/* dashboard.js — rtml's live dashboard: polls api/stats every second and redraws the header tiles, six
 * line charts and the drift-event table from it. Plain browser JavaScript with its own small canvas chart
 * (no library, nothing loaded from the network but rtml itself).
 *
 * What the browser test (tests/monitor/dashboard.sh) reads: each chart's <canvas data-points="N"> (the
 * non-null points it currently draws, all series together), data-drift-lines (the drift events marked on
 * it), #model-version (the model version from api/stats) and #connection[data-state] (live/disconnected). */
'use strict';

(function () {
  const POLL_MS = 1000;
  const TIMEOUT_MS = 3000;
  const MIN_SPAN_S = 60; // the time axis spans at least this much, so the first samples do not fill it
  const PALETTE = ['#2f6fde', '#e8833a', '#2ca58d', '#9b59b6', '#d6455d', '#7f8c8d', '#c9a227', '#17a2b8'];
  const QUALITY = {
    accuracy: {title: 'Accuracy (windowed)', fmt: fmtRatio, max: 1},
    logloss: {title: 'Log loss (windowed)', fmt: fmtNum, min: 0},
    mae: {title: 'MAE (windowed)', fmt: fmtNum, min: 0},
    rmse: {title: 'RMSE (windowed)', fmt: fmtNum, min: 0},
  };
  const QUALITY_ORDER = ['accuracy', 'mae', 'logloss', 'rmse'];

  // ---- formatting --------------------------------------------------------------------------------------
  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function fmtInt(v) { return isNum(v) ? Math.round(v).toLocaleString('en-US') : '–'; }
  function fmtNum(v) {
    if (!isNum(v)) return '–';
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 1 : 2) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    return v === 0 ? '0' : v.toPrecision(2);
  }
  // An axis label: as many decimals as the tick step needs, large values in k/M.
  function fmtTick(v, step) {
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(decimals(step / 1e6)) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(decimals(step / 1e3)) + 'k';
    return v.toFixed(decimals(step));
  }
  // The decimals that print every multiple of step exactly (0.25 -> 2, 5 -> 0).
  function decimals(step) {
    for (let d = 0; d < 6; d++) {
      const x = step * Math.pow(10, d);
      if (Math.abs(x - Math.round(x)) < 1e-6 * Math.max(1, x)) return d;
    }
    return 6;
  }
  function fmtRatioTick(v, step) { return fmtTick(100 * v, 100 * step) + '%'; }
  function fmtRatio(v) { return isNum(v) ? (100 * v).toFixed(1) + '%' : '–'; }
  function fmtMs(v) { return isNum(v) ? fmtNum(v) + ' ms' : '–'; }
  function pad2(n) { return String(n).padStart(2, '0'); }
  function fmtClock(t) {
    const d = new Date(t * 1000);
    return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
  }
  function fmtDuration(s) {
    if (!isNum(s) || s < 0) return '–';
    s = Math.floor(s);
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + pad2(s % 60) + 's';
    return Math.floor(s / 3600) + 'h ' + pad2(Math.floor(s / 60) % 60) + 'm';
  }
  function cssVar(name, fallback) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }

  // ---- axis arithmetic ---------------------------------------------------------------------------------
  // A round step (1, 2 or 5 times a power of ten) giving about `count` ticks over span.
  function niceStep(span, count) {
    const raw = span / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
  }
  const TIME_STEPS = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  function timeStep(span, count) {
    for (const s of TIME_STEPS) if (span / s <= count) return s;
    return TIME_STEPS[TIME_STEPS.length - 1];
  }
  // The y range over every finite value, widened to opts.min/max and to round ticks.
  function yRange(series, opts) {
    let lo = Infinity, hi = -Infinity;
    for (const s of series) for (const v of s.values) if (isNum(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (lo === Infinity) { lo = 0; hi = 1; }
    if (isNum(opts.min)) lo = Math.min(lo, opts.min);
    if (isNum(opts.max) && hi <= opts.max && opts.fixedMax) hi = opts.max;
    if (hi - lo < 1e-12) { hi = lo + (opts.integer ? 1 : Math.max(1e-3, Math.abs(lo) * 0.1)); }
    let step = niceStep(hi - lo, 4);
    if (opts.integer) step = Math.max(1, Math.round(step));
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
    if (isNum(opts.max) && hi > opts.max && opts.fixedMax) hi = opts.max;
    return {lo: lo, hi: hi, step: step};
  }

  // ---- the chart ---------------------------------------------------------------------------------------
  // LineChart(card, opts): draws named series over a shared time axis into card's canvas, with drift events
  // as dashed vertical lines and a legend showing the latest values (or the hovered ones).
  function LineChart(card, opts) {
    this.card = card;
    this.canvas = card.querySelector('canvas');
    this.legend = card.querySelector('.legend');
    this.title = card.querySelector('h2');
    this.opts = opts;
    this.data = null;
    this.hoverT = null; // the time under the mouse, or null
    this.hover = -1;    // its index in data.t, found at each draw
    this.canvas.addEventListener('mousemove', (e) => this.onHover(e));
    this.canvas.addEventListener('mouseleave', () => { this.hoverT = null; this.draw(); });
  }

  LineChart.prototype.setTitle = function (text) {
    if (this.title.textContent !== text) this.title.textContent = text;
  };

  // data: {t: [...], series: [{name, values, color?}], events: [{t, label}]}
  LineChart.prototype.update = function (data) {
    this.data = data;
    this.draw();
  };

  LineChart.prototype.geometry = function () {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
    }
    return {dpr: dpr, w: w, h: h, left: 56, right: 12, top: 8, bottom: 22};
  };

  LineChart.prototype.timeRange = function (t) {
    let t1 = t.length ? t[t.length - 1] : Date.now() / 1000;
    let t0 = t.length ? t[0] : t1 - MIN_SPAN_S;
    if (t1 - t0 < MIN_SPAN_S) t0 = t1 - MIN_SPAN_S;
    return {t0: t0, t1: t1};
  };

  LineChart.prototype.draw = function () {
    const g = this.geometry();
    const ctx = this.canvas.getContext('2d');
    ctx.setTransform(g.dpr, 0, 0, g.dpr, 0, 0);
    ctx.clearRect(0, 0, g.w, g.h);
    const d = this.data || {t: [], series: [], events: []};
    this.hover = this.hoverT === null ? -1 : nearestIndex(d.t, this.hoverT);
    const tr = this.timeRange(d.t);
    const yr = yRange(d.series, this.opts);
    const plot = {x0: g.left, x1: g.w - g.right, y0: g.top, y1: g.h - g.bottom};
    const sx = (t) => plot.x0 + (t - tr.t0) / (tr.t1 - tr.t0) * (plot.x1 - plot.x0);
    const sy = (v) => plot.y1 - (v - yr.lo) / (yr.hi - yr.lo) * (plot.y1 - plot.y0);
    this.drawGrid(ctx, plot, tr, yr, sx, sy);
    const drift = this.drawEvents(ctx, plot, tr, d.events, sx);
    let points = 0;
    d.series.forEach((s, i) => { points += this.drawSeries(ctx, d.t, s, i, sx, sy); });
    this.drawHover(ctx, plot, d, sx);
    this.canvas.dataset.points = String(points);
    this.canvas.dataset.driftLines = String(drift);
    this.renderLegend(d);
  };

  LineChart.prototype.drawGrid = function (ctx, plot, tr, yr, sx, sy) {
    ctx.font = '11px system-ui, sans-serif';
    ctx.lineWidth = 1;
    ctx.strokeStyle = cssVar('--chart-grid', '#e6e8ec');
    ctx.fillStyle = cssVar('--chart-text', '#6b7280');
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let v = yr.lo; v <= yr.hi + yr.step / 2; v += yr.step) {
      const y = Math.round(sy(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(plot.x0, y); ctx.lineTo(plot.x1, y); ctx.stroke();
      ctx.fillText((this.opts.tick || fmtTick)(v, yr.step), plot.x0 - 6, y);
    }
    const step = timeStep(tr.t1 - tr.t0, Math.max(2, Math.floor((plot.x1 - plot.x0) / 90)));
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (let t = Math.ceil(tr.t0 / step) * step; t <= tr.t1; t += step) {
      const x = Math.round(sx(t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, plot.y0); ctx.lineTo(x, plot.y1); ctx.stroke();
      ctx.fillText(fmtClock(t), x, plot.y1 + 5);
    }
  };

  // Drift events: a dashed vertical line each, with a small flag on top. Returns how many were drawn.
  LineChart.prototype.drawEvents = function (ctx, plot, tr, events, sx) {
    let n = 0;
    ctx.save();
    ctx.strokeStyle = ctx.fillStyle = cssVar('--chart-drift', '#d6455d');
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1.5;
    for (const e of events || []) {
      if (!isNum(e.t) || e.t < tr.t0 || e.t > tr.t1) continue;
      const x = Math.round(sx(e.t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, plot.y0); ctx.lineTo(x, plot.y1); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(x, plot.y0); ctx.lineTo(x + 7, plot.y0 + 3); ctx.lineTo(x, plot.y0 + 6); ctx.fill();
      n++;
    }
    ctx.restore();
    return n;
  };

  // One series as a polyline broken at nulls (a lone point between gaps is a dot). Returns points drawn.
  LineChart.prototype.drawSeries = function (ctx, t, s, i, sx, sy) {
    const color = s.color || PALETTE[i % PALETTE.length];
    ctx.save();
    ctx.strokeStyle = ctx.fillStyle = color;
    ctx.lineWidth = 1.75;
    ctx.lineJoin = 'round';
    if (s.dash) ctx.setLineDash(s.dash);
    let n = 0, open = false, prevY = 0;
    ctx.beginPath();
    for (let k = 0; k < t.length && k < s.values.length; k++) {
      const v = s.values[k];
      if (!isNum(v)) { open = false; continue; }
      const x = sx(t[k]), y = sy(v);
      if (!open) ctx.moveTo(x, y);
      else if (this.opts.step) { ctx.lineTo(x, prevY); ctx.lineTo(x, y); }
      else ctx.lineTo(x, y);
      const lone = !isNum(s.values[k - 1]) && !isNum(s.values[k + 1]);
      if (lone) ctx.fillRect(x - 1.5, y - 1.5, 3, 3);
      open = true; prevY = y; n++;
    }
    ctx.stroke();
    ctx.restore();
    return n;
  };

  LineChart.prototype.drawHover = function (ctx, plot, d, sx) {
    if (this.hover < 0 || this.hover >= d.t.length) return;
    const x = Math.round(sx(d.t[this.hover])) + 0.5;
    ctx.save();
    ctx.strokeStyle = cssVar('--chart-text', '#6b7280');
    ctx.beginPath(); ctx.moveTo(x, plot.y0); ctx.lineTo(x, plot.y1); ctx.stroke();
    ctx.restore();
  };

  LineChart.prototype.onHover = function (e) {
    const d = this.data;
    if (!d || !d.t.length) return;
    const g = this.geometry();
    const rect = this.canvas.getBoundingClientRect();
    const tr = this.timeRange(d.t);
    this.hoverT = tr.t0 + (e.clientX - rect.left - g.left) / (g.w - g.left - g.right) * (tr.t1 - tr.t0);
    this.draw();
  };

  function nearestIndex(t, x) {
    let best = -1;
    for (let k = 0; k < t.length; k++) if (best < 0 || Math.abs(t[k] - x) < Math.abs(t[best] - x)) best = k;
    return best;
  }

  // The legend: one entry per series with its latest value (or the hovered one, with its time).
  LineChart.prototype.renderLegend = function (d) {
    const fmt = this.opts.fmt || fmtNum;
    const at = this.hover >= 0 && this.hover < d.t.length ? this.hover : -1;
    const parts = d.series.map((s, i) => {
      const v = at >= 0 ? s.values[at] : lastValue(s.values);
      const color = s.color || PALETTE[i % PALETTE.length];
      return '<span class="key"><i style="background:' + color + '"></i>' + escapeHtml(s.name) +
             ' <b>' + escapeHtml(fmt(v)) + '</b></span>';
    });
    if (at >= 0) parts.push('<span class="at">at ' + fmtClock(d.t[at]) + '</span>');
    const html = parts.join('');
    if (this.legend.innerHTML !== html) this.legend.innerHTML = html;
  };

  function lastValue(values) {
    for (let k = values.length - 1; k >= 0; k--) if (isNum(values[k])) return values[k];
    return null;
  }
  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
  }

  // ---- from api/stats to the page -----------------------------------------------------------------------
  function byId(id) { return document.getElementById(id); }
  function setText(id, text) {
    const el = byId(id);
    if (el && el.textContent !== text) el.textContent = text;
  }
  function col(series, name) { return (series && Array.isArray(series[name])) ? series[name] : []; }

  function makeCharts() {
    const card = (id) => byId(id);
    return {
      throughput: new LineChart(card('card-throughput'), {min: 0, fmt: fmtNum}),
      lag: new LineChart(card('card-lag'), {min: 0, fmt: fmtInt}),
      latency: new LineChart(card('card-latency'), {min: 0, fmt: fmtMs}),
      quality: [new LineChart(card('card-quality-0'), {}), new LineChart(card('card-quality-1'), {})],
      version: new LineChart(card('card-version'), {min: 0, integer: true, step: true, fmt: fmtInt,
                                                    tick: (v) => String(Math.round(v))}),
    };
  }

  function driftEvents(stats) {
    return (Array.isArray(stats.drift_events) ? stats.drift_events : [])
      .map((e) => ({t: e.t, label: (e.detector || 'drift') + ' ' + (e.action || '')}));
  }

  function renderTiles(stats) {
    const m = stats.model || {}, tot = stats.totals || {};
    setText('process', 'v' + (stats.version || '?') + ' · pid ' + (stats.pid || '?') +
            ' · up ' + fmtDuration(stats.now - stats.started_at));
    setText('model-kind', [m.engine, m.type].filter(Boolean).join(' · ') || '–');
    setText('model-task', m.task ? 'task: ' + m.task : '');
    setText('model-version', isNum(m.version) ? String(m.version) : '–');
    setText('tile-learned', fmtInt(isNum(m.learned) ? m.learned : tot.learned));
    setText('tile-consumed', fmtInt(tot.consumed));
    setText('tile-produced', fmtInt(tot.produced));
    setText('tile-dead', fmtInt(tot.dead_letters));
    byId('tile-dead').classList.toggle('warn', isNum(tot.dead_letters) && tot.dead_letters > 0);
    setText('tile-lag', fmtInt(tot.lag));
    const s = stats.series || {};
    setText('tile-consumed-note', 'in: ' + fmtNum(lastValue(col(s, 'in_rate'))) + ' /s');
    setText('tile-produced-note', 'out: ' + fmtNum(lastValue(col(s, 'out_rate'))) + ' /s');
    const parts = Object.keys(stats.lag || {}).length;
    setText('tile-lag-note', parts ? 'over ' + parts + ' partition' + (parts > 1 ? 's' : '') : 'records behind');
    setText('tile-ready', stats.ready ? 'ready' : 'not ready');
    byId('tile-ready').className = 'value ' + (stats.ready ? 'good' : 'warn');
    setText('tile-ready-note', stats.ready_reason || '');
  }

  function renderCharts(charts, stats) {
    const s = stats.series || {};
    const t = col(s, 't');
    const events = driftEvents(stats);
    charts.throughput.update({t: t, events: events, series: [
      {name: 'in', values: col(s, 'in_rate')}, {name: 'out', values: col(s, 'out_rate')}]});
    charts.lag.update({t: t, events: events, series: lagSeries(charts.lag, stats.lag || {}, col(s, 'lag'))});
    charts.latency.update({t: t, events: events, series: [
      {name: 'p50', values: col(s, 'p50_ms')}, {name: 'p99', values: col(s, 'p99_ms'), color: PALETTE[4]}]});
    renderQuality(charts.quality, t, s.quality || {}, events);
    charts.version.update({t: t, events: events, series: [
      {name: 'version', values: col(s, 'model_version'), color: PALETTE[3]}]});
  }

  // One series per "topic/partition" (named by partition alone when there is one topic, which then goes in
  // the title), or the total when the partitions are not known yet.
  function lagSeries(chart, lag, total) {
    const keys = Object.keys(lag).sort(naturalCompare);
    const topics = new Set(keys.map((k) => k.slice(0, k.lastIndexOf('/'))));
    const one = topics.size === 1 ? [...topics][0] : null;
    chart.setTitle('Consumer lag per partition' + (one ? ' · ' + one : ''));
    if (!keys.length) return [{name: 'total', values: total}];
    return keys.map((k) => ({name: one !== null ? 'p' + k.slice(k.lastIndexOf('/') + 1) : k, values: lag[k]}));
  }

  // The quality metrics the task has (accuracy + logloss, or mae + rmse), one chart each.
  function renderQuality(charts, t, quality, events) {
    const keys = Object.keys(quality).filter((k) => Array.isArray(quality[k]));
    keys.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    charts.forEach((chart, i) => {
      const key = keys[i];
      chart.card.hidden = !key;
      if (!key) return;
      const q = QUALITY[key] || {title: key + ' (windowed)', fmt: fmtNum};
      chart.opts = {min: q.min, max: q.max, fixedMax: isNum(q.max), fmt: q.fmt, tick: q.fmt === fmtRatio ? fmtRatioTick : null};
      chart.setTitle(q.title);
      chart.canvas.dataset.metric = key;
      chart.update({t: t, events: events, series: [{name: key, values: quality[key], color: PALETTE[i ? 1 : 2]}]});
    });
  }
  function rank(k) { const i = QUALITY_ORDER.indexOf(k); return i < 0 ? 99 : i; }
  function naturalCompare(a, b) { return a.localeCompare(b, 'en', {numeric: true}); }

  function renderEvents(stats) {
    const ev = Array.isArray(stats.drift_events) ? stats.drift_events : [];
    setText('drift-count', String(ev.length));
    const rows = ev.slice(-20).reverse().map((e) =>
      '<tr><td>' + (isNum(e.t) ? fmtClock(e.t) : '–') + '</td><td>' + fmtInt(e.record) + '</td><td>' +
      escapeHtml(e.detector || '–') + '</td><td>' + escapeHtml(e.action || '–') + '</td><td>' +
      fmtInt(e.model_version) + '</td></tr>');
    const html = rows.length ? rows.join('') : '<tr class="empty"><td colspan="5">No drift detected.</td></tr>';
    const body = byId('drift-rows');
    if (body.innerHTML !== html) body.innerHTML = html;
  }

  function setConnection(state, text) {
    const el = byId('connection');
    el.dataset.state = state;
    el.textContent = text;
    document.body.classList.toggle('stale', state === 'disconnected');
  }

  // ---- polling -----------------------------------------------------------------------------------------
  async function fetchStats() {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
      const r = await fetch('api/stats', {cache: 'no-store', signal: ctl.signal});
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return await r.json();
    } finally {
      clearTimeout(timer);
    }
  }

  function start() {
    const charts = makeCharts();
    let last = null;
    const tick = async () => {
      const began = Date.now();
      try {
        const stats = await fetchStats();
        last = stats;
        renderTiles(stats);
        renderCharts(charts, stats);
        renderEvents(stats);
        setConnection('live', 'live');
        setText('updated', 'updated ' + fmtClock(isNum(stats.now) ? stats.now : Date.now() / 1000));
      } catch (err) {
        setConnection('disconnected', 'disconnected');
        setText('updated', 'cannot reach rtml: ' + (err.name === 'AbortError' ? 'timed out' : err.message));
      }
      setTimeout(tick, Math.max(0, POLL_MS - (Date.now() - began)));
    };
    window.addEventListener('resize', () => { if (last) renderCharts(charts, last); });
    tick();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
