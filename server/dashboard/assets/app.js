// The Kedah Pulse cache dashboard: renders the snapshots the server pushes
// (server-sent events, one per tick). No library, no build step.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);
// The colours of the assessment bands; their bounds come with each
// snapshot (cache.Bands, best first).
const BAND_COLORS = { EXCELLENT: '#2e9d57', GOOD: '#8cbf3f', FAIR: '#e6a23c', POOR: '#d9534f' };
let bands = [];
const FAMILY_COLORS = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626', '#475569'];

const band = (r) => (bands.find((b) => r >= b.from) || { name: 'POOR' }).name;
const pct = (r) => (r * 100).toFixed(1) + ' %';
const num = (n) => String(n);
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const bytes = (n) => {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + ' ' + units[i];
};

function el(tag, attrs, text) {
  const e = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

let sort = { key: 'hits', dir: -1 };
let last = null;

function render(s) {
  last = s;
  bands = s.bands || [];
  $('updated').textContent = clock(s.at);
  $('window-label').textContent = 'last ' + Math.round(s.windowMs / 60000) + ' min';
  const errors = (s.errors || []).concat(s.statsError ? [s.statsError] : []);
  $('errors').hidden = errors.length === 0;
  $('errors').textContent = errors.join('; ');
  if (s.stats) renderStats(s.stats);
  renderRatio(s);
  renderInvalidations(s);
  renderRuns(s.scrapeRuns);
  renderProcesses(s.processes);
}

function renderStats(st) {
  $('backend').textContent = st.backend;
  $('total-ratio').textContent = pct(st.hitRatio);
  $('total-band').textContent = st.assessment;
  $('total-band').className = 'band ' + st.assessment;
  $('total-hits').textContent = num(st.hits);
  $('total-misses').textContent = num(st.misses);
  $('response-ratio').textContent = pct(st.responses.hitRatio);
  $('response-counts').textContent = st.responses.hits + ' hits · ' + st.responses.misses + ' misses';
  $('keys').textContent = num(st.keys);
  $('invalidations').textContent = num(st.invalidations);
  $('warm-replays').textContent = num(st.warmReplays);
  renderCoordinates(st);
  renderRedis(st.redis);
}

function renderCoordinates(st) {
  const rows = st.fields.map((f) => ({ ...f, band: band(f.hitRatio) }));
  rows.sort((a, b) => {
    const x = a[sort.key], y = b[sort.key];
    const c = typeof x === 'number' ? x - y : String(x).localeCompare(String(y));
    return c * sort.dir || a.coordinate.localeCompare(b.coordinate);
  });
  const r = st.responses;
  rows.push({ ...r, coordinate: 'Responses', band: band(r.hitRatio), responses: true });
  const body = el('tbody');
  for (const f of rows) {
    const tr = el('tr', { 'data-coordinate': f.responses ? 'response' : f.coordinate });
    if (f.responses) tr.className = 'responses';
    tr.append(el('td', { class: 'coordinate' }, f.coordinate), el('td', { class: 'num hits' }, num(f.hits)),
      el('td', { class: 'num misses' }, num(f.misses)), el('td', { class: 'num ratio' }, pct(f.hitRatio)));
    const b = el('td'); b.append(el('span', { class: 'band ' + f.band }, f.band)); tr.append(b);
    body.append(tr);
  }
  $('coords').tBodies[0].replaceWith(body);
  for (const th of $('coords').tHead.rows[0].cells) {
    th.className = (th.classList.contains('num') ? 'num ' : '') + (th.dataset.key === sort.key ? 'sorted ' + (sort.dir > 0 ? 'asc' : 'desc') : '');
  }
}

function renderRedis(r) {
  const dl = $('redis');
  dl.replaceChildren();
  if (!r) { dl.append(el('dt', {}, 'Backend'), el('dd', {}, 'in-process cache (no Redis)')); return; }
  const ks = r.keyspaceHits + r.keyspaceMisses;
  for (const [k, v, id] of [['Used memory', bytes(r.usedMemoryBytes), 'redis-memory'], ['Keys', num(last.stats.keys), 'redis-keys'],
    ['Connected clients', num(r.connectedClients), 'redis-clients'], ['Keyspace hits', num(r.keyspaceHits), 'redis-hits'],
    ['Keyspace misses', num(r.keyspaceMisses), 'redis-misses'], ['Keyspace hit ratio', ks ? pct(r.keyspaceHits / ks) : '–', 'redis-ratio']]) {
    dl.append(el('dt', {}, k), el('dd', { id }, v));
  }
}

// chartFrame draws the axes of a time chart on svg and returns the scales.
function chartFrame(svg, s, w, h, pad) {
  svg.replaceChildren();
  const t0 = s.at - s.windowMs;
  const x = (t) => pad.l + ((t - t0) / s.windowMs) * (w - pad.l - pad.r);
  const y0 = h - pad.b, y1 = pad.t;
  const minutes = s.windowMs / 60000;
  const step = minutes > 30 ? 10 : minutes > 10 ? 5 : 1;
  for (let m = 0; m <= minutes; m += step) {
    const t = s.at - m * 60000, xx = x(t);
    svg.append(el('svg:line', { x1: xx, x2: xx, y1: y1, y2: y0, stroke: '#eef0f3' }));
    svg.append(el('svg:text', { x: xx, y: h - 6, 'text-anchor': 'middle' }, m === 0 ? 'now' : '-' + m + ' min'));
  }
  return { x, y0, y1 };
}

function renderRatio(s) {
  const svg = $('ratio-chart'), w = 900, h = 260, pad = { l: 44, r: 118, t: 10, b: 24 };
  const { x, y0, y1 } = chartFrame(svg, s, w, h, pad);
  const y = (r) => y0 - r * (y0 - y1);
  const g = el('svg:g', { id: 'bands' });
  bands.forEach((b, i) => {
    const to = i ? bands[i - 1].from : 1;
    g.append(el('svg:rect', { x: pad.l, width: w - pad.l - pad.r, y: y(to), height: y(b.from) - y(to), fill: BAND_COLORS[b.name], 'fill-opacity': 0.12, class: 'band-' + b.name }));
    g.append(el('svg:text', { x: w - pad.r + 6, y: (y(to) + y(b.from)) / 2 + 4 }, b.name + (b.from ? ' ≥ ' + b.from * 100 + ' %' : '')));
  });
  svg.append(g);
  for (const r of [0, 0.5, ...bands.map((b) => b.from).filter((f) => f > 0), 1]) {
    svg.append(el('svg:text', { x: pad.l - 6, y: y(r) + 4, 'text-anchor': 'end' }, r * 100 + ' %'));
  }
  const line = (key, color, id, dash) => {
    let d = '', pen = false, points = 0;
    for (const p of s.ratio) {
      if (p[key] === null || p[key] === undefined) { pen = key === 'cumulative' ? pen : false; continue; }
      d += (pen ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(p[key]).toFixed(1) + ' ';
      pen = true; points++;
      if (key !== 'cumulative') svg.append(el('svg:circle', { cx: x(p.t), cy: y(p[key]), r: 2.5, fill: color, class: 'point-' + key }));
    }
    const path = el('svg:path', { id, d: d.trim(), fill: 'none', stroke: color, 'stroke-width': 2, 'data-points': points });
    if (dash) path.setAttribute('stroke-dasharray', dash);
    svg.append(path);
  };
  line('cumulative', '#334155', 'line-cumulative', '4 3');
  line('response', '#9333ea', 'line-response');
  line('overall', '#2563eb', 'line-overall');
}

function renderInvalidations(s) {
  const svg = $('inv-chart'), w = 600, h = 200, pad = { l: 36, r: 10, t: 10, b: 24 };
  const { x, y0, y1 } = chartFrame(svg, s, w, h, pad);
  const fams = s.families;
  const color = (f) => FAMILY_COLORS[fams.indexOf(f) % FAMILY_COLORS.length];
  const totals = s.invalidations.map((b) => Object.values(b.families).reduce((a, n) => a + n, 0));
  const top = Math.max(1, ...totals);
  const barW = Math.max(1, (w - pad.l - pad.r) / s.invalidations.length - 1);
  svg.append(el('svg:text', { x: pad.l - 6, y: y1 + 8, 'text-anchor': 'end' }, String(top)));
  svg.append(el('svg:text', { x: pad.l - 6, y: y0, 'text-anchor': 'end' }, '0'));
  let bars = 0;
  const sum = {};
  s.invalidations.forEach((b) => {
    let base = y0;
    for (const f of fams) {
      const n = b.families[f] || 0;
      if (!n) continue;
      sum[f] = (sum[f] || 0) + n;
      const hh = (n / top) * (y0 - y1);
      const r = el('svg:rect', { x: x(b.t) - barW, y: base - hh, width: barW, height: hh, fill: color(f), class: 'bar' });
      r.append(el('svg:title', {}, clock(b.t) + ' · ' + f + ': ' + n));
      svg.append(r);
      base -= hh; bars++;
    }
  });
  svg.setAttribute('data-bars', bars);
  const legend = $('inv-legend');
  legend.replaceChildren();
  if (!fams.length) legend.append(el('li', { class: 'muted' }, 'no invalidation in the window'));
  for (const f of fams) {
    const li = el('li', { 'data-family': f });
    const sw = el('span', { class: 'swatch' }); sw.style.background = color(f);
    li.append(sw, document.createTextNode(f + ' '), el('b', { class: 'count' }, String(sum[f] || 0)));
    legend.append(li);
  }
}

function renderRuns(runs) {
  const body = el('tbody');
  if (!runs.length) {
    const tr = el('tr');
    tr.append(el('td', { colspan: 5, class: 'muted' }, 'no scrape run yet'));
    body.append(tr);
  }
  for (const r of runs) {
    const tr = el('tr', { 'data-run': r.id, title: r.error || '' });
    tr.append(el('td', {}, String(r.id)), el('td', {}, new Date(r.startedAt).toLocaleString()),
      el('td', { class: 'status status-' + r.status }, r.status), el('td', { class: 'num stored' }, String(r.postsStored)),
      el('td', { class: 'num tags' }, String(r.tagsInvalidated)));
    body.append(tr);
  }
  $('runs').tBodies[0].replaceWith(body);
}

function renderProcesses(procs) {
  const ul = $('procs');
  ul.replaceChildren();
  for (const p of procs) {
    const li = el('li', { 'data-process': p.id, 'data-reporting': p.reporting });
    li.append(el('span', { class: 'dot' + (p.reporting ? ' on' : '') }), document.createTextNode(p.id + (p.self ? ' (this page\'s server)' : '')),
      el('span', { class: 'muted' }, ' · last sample ' + clock(p.lastSeen) + (p.reporting ? '' : ' · not reporting')));
    ul.append(li);
  }
  if (!procs.length) ul.append(el('li', { class: 'muted' }, 'no samples yet'));
}

function status(text, cls) {
  $('status').textContent = text;
  $('status').className = 'pill ' + (cls || '');
}

function connect() {
  const es = new EventSource('/dashboard/api/events');
  es.onopen = () => status('live', 'live');
  es.onmessage = (e) => render(JSON.parse(e.data));
  es.onerror = () => {
    status('reconnecting', 'down');
    if (es.readyState !== EventSource.CLOSED) return; // the browser retries by itself
    fetch('/dashboard/api/snapshot').then((r) => {
      if (r.status === 401) location.reload(); // logged out: the login form
      else setTimeout(connect, 2000);
    }, () => setTimeout(connect, 2000));
  };
}

document.addEventListener('DOMContentLoaded', () => {
  for (const th of $('coords').tHead.rows[0].cells) {
    th.addEventListener('click', () => {
      const key = th.dataset.key;
      sort = { key, dir: sort.key === key ? -sort.dir : key === 'coordinate' || key === 'band' ? 1 : -1 };
      if (last && last.stats) renderCoordinates(last.stats);
    });
  }
  connect();
});
