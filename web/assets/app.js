// Tenun explorer: a read-only single page over the node's JSON API.
// Every value reaches the page as a text node or an attribute set through
// the DOM (never as markup), so chain data cannot inject HTML.
'use strict';

const view = document.getElementById('view');
let live = null; // the overview's EventSource, closed when leaving it

// ---- DOM helpers -------------------------------------------------------
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else e.setAttribute(k, String(v));
  }
  for (const k of kids.flat(Infinity)) {
    if (k === undefined || k === null || k === false) continue;
    e.appendChild(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}
const SVGNS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...kids) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const k of kids.flat(Infinity)) e.appendChild(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}
const a = (href, text, attrs) => h('a', Object.assign({ href }, attrs || {}), text);
const short = (x, n = 10) => (x && x.length > 2 * n + 1 ? x.slice(0, n) + '…' + x.slice(-6) : x || '');
const addrLink = (x) => (x ? a('#/account/' + encodeURIComponent(x), short(x, 12), { class: 'mono', title: x }) : h('span', { class: 'muted' }, '—'));
const txLink = (x) => a('#/tx/' + encodeURIComponent(x), short(x, 8), { class: 'mono', title: x });
const blockLink = (n) => a('#/block/' + n, String(n));
const cidLink = (c) => (c ? a('#/blob/' + encodeURIComponent(c), short(c, 10), { class: 'mono', title: c }) : '');
function tnn(u) {
  const n = Number(u || 0);
  const whole = Math.floor(n / 1e6), frac = String(n % 1e6).padStart(6, '0');
  return whole.toLocaleString('en-US') + '.' + frac + ' TNN';
}
const pct = (num, den) => (den ? (100 * num / den).toFixed(1) + '%' : '—');
const ppm = (v) => (Number(v || 0) / 1e4).toFixed(2) + '%';
const bps = (v) => (Number(v || 0) / 100).toFixed(2) + '%';
const u16 = (v) => (Number(v || 0) / 65535).toFixed(4);
function bar(frac) {
  const f = Math.max(0, Math.min(1, frac || 0));
  return h('div', { class: 'bar', title: (100 * f).toFixed(1) + '%' }, h('span', { style: null, 'data-w': f }));
}
function fixBars(root) { // width via the DOM, not inline style markup (CSP)
  root.querySelectorAll('.bar > span').forEach((e) => { e.style.width = (100 * Number(e.dataset.w)) + '%'; });
}
function table(cols, rows, attrs) {
  return h('table', attrs || {},
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { class: c.num ? 'num' : null }, c.h)))),
    h('tbody', {}, rows.length ? rows.map((r) => row(cols, r)) :
      h('tr', {}, h('td', { colspan: cols.length, class: 'muted' }, 'none'))));
}
function row(cols, r) { return h('tr', {}, cols.map((c) => h('td', { class: c.num ? 'num' : null }, c.f(r)))); }
function kv(pairs) {
  return h('table', { class: 'kv' }, h('tbody', {}, pairs.filter(Boolean).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { 'data-k': k }, v)))));
}
function card(k, v, id) { return h('div', { class: 'card' }, h('div', { class: 'k' }, k), h('div', { class: 'v', id }, v)); }
function json(v) { return h('pre', { class: 'mono' }, JSON.stringify(v, null, 2)); }
function pager(next, base) {
  return h('div', { class: 'pager' }, a(base, 'Newest'), next ? a(base + '?cursor=' + encodeURIComponent(next), 'Older →', { id: 'older' }) : h('span', { class: 'muted' }, 'end of list'));
}
function events(evs) {
  return table([
    { h: 'event', f: (e) => e.type },
    { h: 'attributes', f: (e) => h('span', { class: 'mono' }, (e.attributes || []).map((x) => x.key + '=' + x.value).join('  ')) },
  ], evs || []);
}

// ---- API ---------------------------------------------------------------
class APIError extends Error { constructor(status, msg) { super(msg); this.status = status; } }
async function api(path) {
  const r = await fetch(path, { headers: { Accept: 'application/json' } });
  let body = null;
  try { body = await r.json(); } catch (_) { /* not JSON */ }
  if (!r.ok) throw new APIError(r.status, (body && body.error) || r.statusText);
  return body;
}
async function maybe(path, fallback) {
  try { return await api(path); } catch (e) { if (e.status === 404) return fallback; throw e; }
}

// ---- charts (inline SVG) -----------------------------------------------
const PALETTE = ['#2f6fd0', '#d0742f', '#1f8a4c', '#a23bc2', '#c23b31', '#2fa3b0', '#8a7a1f', '#555'];
// lineChart draws series [{name, points:[[x,y]...]}].
function lineChart(series, opts) {
  const W = opts.w || 560, H = opts.h || 180, P = 30;
  const pts = series.flatMap((x) => x.points);
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': opts.title || 'chart' });
  if (!pts.length) { svg.appendChild(s('text', { x: 10, y: 20 }, 'no data yet')); return svg; }
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(0, ...ys), y1 = Math.max(...ys, opts.ymax || 0) || 1;
  const X = (x) => P + (x1 === x0 ? (W - 2 * P) / 2 : (x - x0) * (W - 2 * P) / (x1 - x0));
  const Y = (y) => H - P + 10 - (y - y0) * (H - P - 10) / (y1 - y0);
  svg.appendChild(s('line', { x1: P, y1: Y(y0), x2: W - P, y2: Y(y0), stroke: '#ccc' }));
  svg.appendChild(s('text', { x: 2, y: Y(y1) + 4 }, opts.fmt ? opts.fmt(y1) : String(y1)));
  svg.appendChild(s('text', { x: 2, y: Y(y0) }, opts.fmt ? opts.fmt(y0) : String(y0)));
  svg.appendChild(s('text', { x: P, y: H - 4 }, String(x0)));
  svg.appendChild(s('text', { x: W - P - 20, y: H - 4 }, String(x1)));
  series.forEach((ser, i) => {
    const c = PALETTE[i % PALETTE.length];
    const d = ser.points.map((p, j) => (j ? 'L' : 'M') + X(p[0]).toFixed(1) + ' ' + Y(p[1]).toFixed(1)).join(' ');
    svg.appendChild(s('path', { d, fill: 'none', stroke: c, 'stroke-width': 2 }));
    ser.points.forEach((p) => svg.appendChild(s('circle', { cx: X(p[0]), cy: Y(p[1]), r: 2.5, fill: c }, s('title', {}, `${ser.name}: ${p[1]} at ${p[0]}`))));
  });
  return svg;
}
function legend(names) {
  return h('div', { class: 'legend' }, names.map((n, i) => [h('span', { 'data-c': PALETTE[i % PALETTE.length] }), n]));
}
function fixLegends(root) { root.querySelectorAll('.legend span').forEach((e) => { e.style.background = e.dataset.c; }); }
// barChart draws [{label, value}] as horizontal bars.
function barChart(items, opts) {
  const W = opts.w || 560, rowH = 18, H = items.length * rowH + 10, L = 150;
  const max = Math.max(1, ...items.map((x) => x.value));
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${Math.max(H, 30)}`, width: W, role: 'img', 'aria-label': opts.title || 'chart' });
  if (!items.length) svg.appendChild(s('text', { x: 10, y: 20 }, 'no data yet'));
  items.forEach((it, i) => {
    const y = 5 + i * rowH, w = (W - L - 90) * it.value / max;
    svg.appendChild(s('text', { x: 4, y: y + 12 }, short(it.label, 9)));
    svg.appendChild(s('rect', { x: L, y: y + 2, width: Math.max(1, w), height: rowH - 6, fill: PALETTE[0] }, s('title', {}, it.label + ': ' + (opts.fmt ? opts.fmt(it.value) : it.value))));
    svg.appendChild(s('text', { x: L + w + 4, y: y + 12 }, opts.fmt ? opts.fmt(it.value) : String(it.value)));
  });
  return svg;
}
// graph draws a lineage: edges [{from, to, relation}] laid out in columns
// by distance from the sources.
function graph(edges) {
  const nodes = new Map();
  const add = (id) => { if (!nodes.has(id)) nodes.set(id, { id, depth: 0, in: 0 }); return nodes.get(id); };
  edges.forEach((e) => { add(e.from); add(e.to).in++; });
  for (let pass = 0; pass < nodes.size; pass++) {
    let moved = false;
    edges.forEach((e) => { const f = nodes.get(e.from), t = nodes.get(e.to); if (t.depth < f.depth + 1 && f.depth + 1 < nodes.size) { t.depth = f.depth + 1; moved = true; } });
    if (!moved) break;
  }
  const cols = [];
  for (const n of nodes.values()) { (cols[n.depth] = cols[n.depth] || []).push(n); }
  const CW = 270, RH = 46, BW = 180, BH = 28;
  const W = Math.max(1, cols.length) * CW + 20, H = Math.max(1, ...cols.map((c) => (c || []).length)) * RH + 20;
  cols.forEach((c) => (c || []).forEach((n, i) => { n.x = 10 + n.depth * CW; n.y = 10 + i * RH; }));
  const svg = s('svg', { class: 'chart graph', viewBox: `0 0 ${W} ${H}`, width: Math.min(W, 1240), role: 'img', 'aria-label': 'lineage graph' });
  svg.appendChild(s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' }, s('path', { d: 'M0 0L10 5L0 10z', fill: '#8aa3c2' }))));
  edges.forEach((e) => {
    const f = nodes.get(e.from), t = nodes.get(e.to);
    svg.appendChild(s('line', { x1: f.x + BW, y1: f.y + BH / 2, x2: t.x, y2: t.y + BH / 2, 'marker-end': 'url(#arrow)' }, s('title', {}, e.relation)));
    svg.appendChild(s('text', { x: (f.x + BW + t.x) / 2 - 14, y: (f.y + t.y) / 2 + BH / 2 - 3 }, e.relation || ''));
  });
  for (const n of nodes.values()) {
    svg.appendChild(s('g', { class: 'node' }, s('rect', { x: n.x, y: n.y, width: BW, height: BH, rx: 5 }), s('text', { x: n.x + 6, y: n.y + 18 }, short(n.id, 12)), s('title', {}, n.id)));
  }
  return svg;
}

// ---- pages -------------------------------------------------------------
function show(...nodes) {
  view.replaceChildren(...nodes.flat());
  fixBars(view); fixLegends(view);
}
function notFound(msg) { show(h('div', { class: 'notfound', id: 'notfound' }, h('h1', {}, 'Not found'), h('p', {}, msg))); }
function badInput(msg) { show(h('div', { class: 'error', id: 'error' }, h('h1', {}, 'Invalid input'), h('p', {}, msg))); }

const routes = [
  [/^\/?$/, overview],
  [/^\/blocks$/, blocks],
  [/^\/block\/(.+)$/, block],
  [/^\/txs$/, txs],
  [/^\/tx\/(.+)$/, tx],
  [/^\/account\/(.+)$/, account],
  [/^\/blob\/(.+)$/, blob],
  [/^\/search\/(.*)$/, search],
  [/^\/data$/, datasets],
  [/^\/data\/(.+)$/, dataset],
  [/^\/lineage\/(.+)$/, lineage],
  [/^\/label$/, labelJobs],
  [/^\/label\/(.+)$/, labelJob],
  [/^\/compute$/, compute],
  [/^\/compute\/job\/(.+)$/, computeJob],
  [/^\/zkml$/, zkml],
  [/^\/zkml\/model\/(.+)$/, zkModel],
  [/^\/subnets$/, subnets],
  [/^\/subnet\/(.+)$/, subnet],
  [/^\/pipelines$/, pipelines],
  [/^\/pipeline\/(.+)$/, pipeline],
];

async function route() {
  if (live) { live.close(); live = null; }
  const raw = location.hash.replace(/^#/, '') || '/';
  delete document.body.dataset.ready; // set again once this page is drawn (tests wait on it)
  const [path, qs] = raw.split('?');
  const params = new URLSearchParams(qs || '');
  for (const [re, fn] of routes) {
    const m = path.match(re);
    if (!m) continue;
    try {
      await fn(params, ...m.slice(1).map(decodeURIComponent));
    } catch (e) {
      if (e.status === 404) notFound(e.message);
      else if (e.status === 400) badInput(e.message);
      else show(h('div', { class: 'error', id: 'error' }, h('h1', {}, 'Error'), h('p', {}, e.message || String(e))));
    }
    if (location.hash.replace(/^#/, '') === raw || raw === '/') document.body.dataset.ready = raw;
    return;
  }
  notFound('No page ' + path);
  document.body.dataset.ready = raw;
}

function txRows(list) {
  return table([
    { h: 'hash', f: (t) => txLink(t.hash) },
    { h: 'height', f: (t) => blockLink(t.height) },
    { h: 'type', f: (t) => t.type },
    { h: 'sender', f: (t) => addrLink(t.sender) },
    { h: 'result', f: (t) => (t.code ? h('span', { class: 'bad', title: t.log }, 'failed: ' + short(t.log, 30)) : h('span', { class: 'ok' }, 'ok')) },
  ], list, { id: 'tx-table' });
}
function blockRows(list, id) {
  return table([
    { h: 'height', f: (b) => blockLink(b.height) },
    { h: 'time', f: (b) => b.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z') },
    { h: 'txs', num: true, f: (b) => b.txs },
    { h: 'failed', num: true, f: (b) => b.failed },
    { h: 'hash', f: (b) => h('span', { class: 'mono', title: b.hash }, short(b.hash, 8)) },
  ], list, { id: id || 'block-table' });
}

async function overview() {
  const o = await api('/explorer/overview');
  const series = o.blocks.slice().reverse().map((b) => [b.height, b.txs]);
  const blocksT = blockRows(o.blocks.slice(0, 10), 'latest-blocks');
  const txsT = txRows(o.txs);
  txsT.id = 'latest-txs';
  show(
    h('h1', {}, 'Chain ', h('span', { class: 'mono' }, o.chain_id)),
    h('div', { class: 'cards' },
      card('height', o.height, 'height'),
      card('block time', (o.block_time_ms / 1000).toFixed(2) + ' s', 'block-time'),
      card('transactions / s', (o.tx_per_sec_milli / 1000).toFixed(2), 'tps'),
      card('validators', o.validators.length, 'validator-count'),
      card('supply', tnn(o.supply), 'supply')),
    h('h2', {}, 'Transactions per block, last ', o.blocks.length, ' blocks'),
    lineChart([{ name: 'txs', points: series }], { title: 'transactions per block', w: 1200, h: 160 }),
    h('div', { class: 'grid2' },
      h('div', {}, h('h2', {}, 'Validators'), table([
        { h: 'address', f: (v) => h('span', { class: 'mono' }, v.address) },
        { h: 'power', num: true, f: (v) => v.power }], o.validators, { id: 'validators' })),
      h('div', {}, h('h2', {}, 'Staked per pool'), table([
        { h: 'pool', f: (p) => p.pool },
        { h: 'stakers', num: true, f: (p) => p.stakers },
        { h: 'staked', num: true, f: (p) => tnn(p.total) }], o.pools, { id: 'pools' }))),
    h('div', { class: 'grid2' },
      h('div', {}, h('h2', {}, 'Latest blocks ', h('span', { class: 'muted', id: 'live-state' }, '(connecting…)')), blocksT),
      h('div', {}, h('h2', {}, 'Latest transactions'), txsT)),
  );
  live = new EventSource('/explorer/live');
  live.addEventListener('open', () => { const e = document.getElementById('live-state'); if (e) e.textContent = '(live)'; });
  live.addEventListener('block', (ev) => {
    const d = JSON.parse(ev.data);
    const hEl = document.getElementById('height');
    if (hEl) hEl.textContent = String(d.block.height);
    const tb = document.querySelector('#latest-blocks tbody');
    if (tb) {
      const r = blockRows([d.block]).querySelector('tbody tr');
      r.classList.add('flash'); r.dataset.height = d.block.height;
      tb.prepend(r);
      while (tb.children.length > 10) tb.lastChild.remove();
    }
    const tt = document.querySelector('#latest-txs tbody');
    if (tt && d.txs.length) {
      if (tt.querySelector('td.muted')) tt.replaceChildren();
      d.txs.slice().reverse().forEach((t) => { const r = txRows([t]).querySelector('tbody tr'); r.classList.add('flash'); tt.prepend(r); });
      while (tt.children.length > 10) tt.lastChild.remove();
    }
  });
}

async function blocks(p) {
  const pg = await api('/explorer/blocks?limit=25' + (p.get('cursor') ? '&cursor=' + encodeURIComponent(p.get('cursor')) : ''));
  show(h('h1', {}, 'Blocks'), blockRows(pg.items), pager(pg.next, '#/blocks'));
}
async function txs(p) {
  const pg = await api('/explorer/txs?limit=25' + (p.get('cursor') ? '&cursor=' + encodeURIComponent(p.get('cursor')) : ''));
  show(h('h1', {}, 'Transactions'), txRows(pg.items), pager(pg.next, '#/txs'));
}
async function block(_, height) {
  const b = await api('/explorer/blocks/' + encodeURIComponent(height));
  show(h('h1', {}, 'Block ', h('span', { id: 'block-height' }, b.height)),
    kv([['height', b.height], ['time', b.time], ['hash', h('span', { class: 'mono' }, b.hash)], ['app hash', h('span', { class: 'mono' }, b.app_hash)],
      ['proposer', h('span', { class: 'mono' }, b.proposer)], ['transactions', b.txs], ['failed', b.failed],
      ['', h('span', {}, b.height > 1 ? blockLink(b.height - 1) : '', ' ← → ', blockLink(b.height + 1))]]),
    h('h2', {}, 'Transactions'), txRows(b.tx_list),
    h('h2', {}, 'End-block events'), events(b.events));
}
async function tx(_, hash) {
  const t = await api('/explorer/txs/' + encodeURIComponent(hash));
  show(h('h1', {}, 'Transaction'),
    kv([['hash', h('span', { class: 'mono', id: 'tx-hash' }, t.hash)], ['status', t.code ? h('span', { class: 'bad', id: 'tx-status' }, 'failed (code ' + t.code + ')') : h('span', { class: 'ok', id: 'tx-status' }, 'success')],
      t.code ? ['failure reason', h('span', { class: 'bad', id: 'tx-reason' }, t.log)] : null,
      ['block', blockLink(t.height)], ['time', t.time], ['index', t.index], ['type', h('span', { id: 'tx-type' }, t.type)],
      ['sender', addrLink(t.sender)], ['sequence', t.sequence], ['fee', tnn(t.fee)], t.memo ? ['memo', t.memo] : null]),
    h('h2', {}, 'Message'), msgView(t.msg),
    h('h2', {}, 'Events'), events(t.events));
}
function msgView(m) {
  if (!m || typeof m !== 'object') return json(m);
  return kv(Object.entries(m).map(([k, v]) => [k, typeof v === 'object' && v !== null ? json(v) :
    typeof v === 'string' && /^tenun1[0-9a-z]{38}$/.test(v) ? addrLink(v) : String(v)]));
}
async function account(p, addr) {
  const [acc, hist] = await Promise.all([
    api('/explorer/accounts/' + encodeURIComponent(addr)),
    api('/explorer/accounts/' + encodeURIComponent(addr) + '/history?limit=25' + (p.get('cursor') ? '&cursor=' + encodeURIComponent(p.get('cursor')) : '')),
  ]);
  const staked = acc.stakes.reduce((x, st) => x + st.amount, 0);
  show(h('h1', {}, 'Account'),
    h('p', { class: 'mono', id: 'account-address' }, acc.address),
    h('div', { class: 'cards' }, card('balance', tnn(acc.balance), 'balance'), card('staked', tnn(staked), 'staked'),
      card('sequence', acc.sequence, 'sequence'), card('slashes', acc.slashes.length, 'slash-count')),
    h('div', { class: 'grid2' },
      h('div', {}, h('h2', {}, 'Stake'), table([{ h: 'pool', f: (x) => x.pool }, { h: 'amount', num: true, f: (x) => tnn(x.amount) }], acc.stakes, { id: 'stakes' }),
        h('h2', {}, 'Unbonding'), table([{ h: 'pool', f: (x) => x.pool }, { h: 'amount', num: true, f: (x) => tnn(x.amount) }, { h: 'matures at', f: (x) => x.maturity }], acc.unbondings)),
      h('div', {}, h('h2', {}, 'Earnings per market'),
        barChart(acc.earnings.map((e) => ({ label: e.market, value: e.amount })), { fmt: tnn, title: 'earnings' }),
        table([{ h: 'market', f: (x) => x.market }, { h: 'received', num: true, f: (x) => tnn(x.amount) }], acc.earnings, { id: 'earnings' }))),
    h('h2', {}, 'Slashes'), table([
      { h: 'height', f: (x) => blockLink(x.height) }, { h: 'pool', f: (x) => x.pool }, { h: 'amount', num: true, f: (x) => tnn(x.amount) },
      { h: 'reason', f: (x) => h('span', { class: 'bad' }, x.reason) }], acc.slashes, { id: 'slashes' }),
    h('h2', {}, 'History'), table([
      { h: 'height', f: (x) => blockLink(x.height) },
      { h: 'what', f: (x) => (x.hash ? txLink(x.hash) : h('span', { class: 'muted' }, 'end of block')) },
      { h: 'type', f: (x) => x.type },
      { h: 'role', f: (x) => x.roles.join(', ') },
      { h: 'received', num: true, f: (x) => (x.received ? tnn(x.received) : '') },
      { h: 'sent', num: true, f: (x) => (x.sent ? tnn(x.sent) : '') },
      { h: 'result', f: (x) => (x.code ? h('span', { class: 'bad' }, 'failed') : h('span', { class: 'ok' }, 'ok')) }], hist.items, { id: 'history' }),
    pager(hist.next, '#/account/' + encodeURIComponent(acc.address)));
}
async function blob(_, cid) {
  const b = await api('/query/core/blob/' + encodeURIComponent(cid));
  show(h('h1', {}, 'Blob'), kv([['CID', h('span', { class: 'mono', id: 'blob-cid' }, b.cid)], ['owner', addrLink(b.owner)], ['size', b.size + ' bytes'],
    ['registered at', blockLink(b.height)], ['content', a('/blobs/' + encodeURIComponent(b.cid), 'download')], ['lineage', a('#/lineage/' + encodeURIComponent(b.cid), 'trace')]]));
}
async function search(_, q) {
  const f = await api('/explorer/search?q=' + encodeURIComponent(q));
  location.replace('#/' + f.kind + '/' + encodeURIComponent(f.id));
}

// ---- markets -----------------------------------------------------------
async function datasets() {
  const ds = (await api('/query/data/datasets')) || [];
  show(h('h1', {}, 'Datasets'), table([
    { h: 'id', f: (d) => a('#/data/' + d.id, String(d.id)) },
    { h: 'name', f: (d) => h('span', { class: 'ds-name' }, d.name) },
    { h: 'curator', f: (d) => addrLink(d.owner) },
    { h: 'records', num: true, f: (d) => d.records },
    { h: 'versions', num: true, f: (d) => d.versions },
    { h: 'price', num: true, f: (d) => tnn(d.price) },
    { h: 'revenue', num: true, f: (d) => tnn(d.revenue) }], ds, { id: 'datasets' }));
}
async function dataset(_, id) {
  const [d, versions, contrib, grants] = await Promise.all([
    api('/query/data/dataset/' + encodeURIComponent(id)), api('/query/data/versions/' + encodeURIComponent(id)),
    api('/query/data/contributions/' + encodeURIComponent(id)), api('/query/data/grants/' + encodeURIComponent(id))]);
  const total = contrib.shares.reduce((x, c) => x + c.records, 0);
  // The split of one sale at the current price: the curator's basis points,
  // the rest pro rata by accepted records (the chain gives dust to the curator).
  const pool = d.price - Math.floor(d.price * d.curator_bps / 10000);
  const split = contrib.shares.map((c) => ({ label: c.contributor, value: total ? Math.floor(pool * c.records / total) : 0 }));
  const curator = d.price - split.reduce((x, c) => x + c.value, 0);
  show(h('h1', {}, 'Dataset ', d.id, ': ', h('span', { id: 'ds-title' }, d.name)),
    kv([['description', d.description], ['curator', addrLink(d.owner)], ['license', d.license], ['price', tnn(d.price)], ['curator share', bps(d.curator_bps)],
      ['records', d.records], ['batches', d.batches], ['revenue', tnn(d.revenue)], ['schema', d.schema.map((c) => c.name + ':' + c.type).join(', ')],
      ['lineage', a('#/lineage/' + encodeURIComponent('dataset/' + d.id), 'graph')]]),
    h('h2', {}, 'Versions'), table([
      { h: 'version', f: (v) => v.version }, { h: 'records', num: true, f: (v) => v.count }, { h: 'contributors', num: true, f: (v) => (v.contributors || []).length },
      { h: 'height', f: (v) => blockLink(v.height) }, { h: 'CID', f: (v) => cidLink(v.cid) }, { h: 'note', f: (v) => v.note || '' },
      { h: 'lineage', f: (v) => a('#/lineage/' + encodeURIComponent('dataset/' + d.id + '@' + v.version), 'graph') }], versions, { id: 'versions' }),
    h('div', { class: 'grid2' },
      h('div', {}, h('h2', {}, 'Contributors'), table([
        { h: 'contributor', f: (c) => addrLink(c.contributor) }, { h: 'accepted records', num: true, f: (c) => c.records },
        { h: 'share', f: (c) => bar(total ? c.records / total : 0) }], contrib.shares, { id: 'contributors' })),
      h('div', {}, h('h2', {}, 'Revenue split of one sale'),
        barChart([{ label: 'curator', value: curator }, ...split], { fmt: tnn, title: 'revenue split' }))),
    h('h2', {}, 'Sales'), table([
      { h: 'buyer', f: (g) => addrLink(g.buyer) }, { h: 'version', f: (g) => g.version }, { h: 'paid', num: true, f: (g) => tnn(g.paid) },
      { h: 'height', f: (g) => blockLink(g.height) }], grants, { id: 'sales' }),
    h('h2', {}, 'Batches'), table([
      { h: 'seq', f: (b) => b.seq }, { h: 'contributor', f: (b) => addrLink(b.contributor) }, { h: 'accepted', num: true, f: (b) => (b.accepted || []).length },
      { h: 'rejected', num: true, f: (b) => (b.rejected || []).length }, { h: 'height', f: (b) => blockLink(b.height) }, { h: 'CID', f: (b) => cidLink(b.cid) }], contrib.batches));
}
async function lineage(_, ref) {
  const l = await api('/query/data/lineage/' + encodeURIComponent(ref).replace(/%2F/g, '/'));
  // Contributors stand behind each dataset version the trace reaches.
  // Edges that users asserted by hand (tx data link) are drawn too, marked
  // unverified: the chain recorded the claim, not the relation.
  const unverified = (l.unverified || []).map((e) => Object.assign({}, e, { relation: 'unverified: ' + e.relation }));
  const drawn = l.edges.concat(unverified, (l.versions || []).flatMap((v) => (v.contributors || []).map((c) => (
    { from: c.contributor, to: 'dataset/' + v.dataset + '@' + v.version, relation: c.records + ' records' }))));
  show(h('h1', {}, 'Lineage of ', h('span', { class: 'mono' }, ref)),
    drawn.length ? graph(drawn) : h('p', { class: 'muted', id: 'no-lineage' }, 'No lineage edges recorded for this reference.'),
    h('h2', {}, 'Edges'), table([
      { h: 'from', f: (e) => h('span', { class: 'mono' }, e.from) }, { h: 'relation', f: (e) => e.relation }, { h: 'to', f: (e) => h('span', { class: 'mono' }, e.to) },
      { h: 'by', f: (e) => addrLink(e.actor) }, { h: 'height', f: (e) => blockLink(e.height) }], l.edges, { id: 'edges' }),
    h('h2', {}, 'Unverified claims'), table([
      { h: 'from', f: (e) => h('span', { class: 'mono' }, e.from) }, { h: 'relation', f: (e) => e.relation }, { h: 'to', f: (e) => h('span', { class: 'mono' }, e.to) },
      { h: 'by', f: (e) => addrLink(e.actor) }, { h: 'height', f: (e) => blockLink(e.height) }], l.unverified || [], { id: 'unverified' }));
}
async function labelJobs() {
  const jobs = await api('/query/label/jobs');
  show(h('h1', {}, 'Labeling jobs'), table([
    { h: 'id', f: (j) => a('#/label/' + j.id, String(j.id)) }, { h: 'title', f: (j) => j.title }, { h: 'status', f: (j) => j.status },
    { h: 'items', num: true, f: (j) => j.item_count }, { h: 'workers', num: true, f: (j) => j.workers },
    { h: 'revealed / assigned', f: (j) => h('span', {}, j.revealed + ' / ' + j.assigned, bar(j.assigned ? j.revealed / j.assigned : 0)) },
    { h: 'reward', num: true, f: (j) => tnn(j.reward) }], jobs, { id: 'label-jobs' }));
}
async function labelJob(_, id) {
  const j = await api('/query/label/job/' + encodeURIComponent(id));
  const res = await maybe('/query/label/results/' + encodeURIComponent(id), null);
  const need = j.item_count * j.redundancy;
  const parts = [h('h1', {}, 'Labeling job ', j.id, ': ', h('span', { id: 'job-title' }, j.title)),
    kv([['status', h('span', { id: 'job-status' }, j.status)], ['requester', addrLink(j.requester)], ['labels', j.labels.join(', ')], ['items', j.item_count],
      ['redundancy', j.redundancy + ' (up to ' + j.max_redundancy + ')'], ['reward per answer', tnn(j.reward)], ['budget', tnn(j.budget)],
      ['progress', h('span', {}, `${j.committed} committed, ${j.revealed} revealed of ${need} answers `, bar(need ? j.revealed / need : 0))],
      ['commit until', j.commit_end], ['reveal until', j.reveal_end], ['paid', tnn(j.paid)], ['refunded', tnn(j.refunded)], ['slashed', tnn(j.slashed)],
      j.results_cid ? ['results', cidLink(j.results_cid)] : null])];
  if (res) {
    parts.push(h('h2', {}, 'Workers: quality and pay'),
      h('div', { class: 'grid2' },
        h('div', {}, h('div', { class: 'legend' }, 'estimated accuracy'), barChart(res.workers.map((w) => ({ label: w.address, value: w.accuracy_ppm })), { fmt: ppm, title: 'worker accuracy' })),
        h('div', {}, h('div', { class: 'legend' }, 'paid'), barChart(res.workers.map((w) => ({ label: w.address, value: w.paid })), { fmt: tnn, title: 'worker pay' }))),
      table([
        { h: 'worker', f: (w) => addrLink(w.address) }, { h: 'answers', num: true, f: (w) => w.revealed },
        { h: 'accuracy', num: true, f: (w) => ppm(w.accuracy_ppm) }, { h: 'score', num: true, f: (w) => ppm(w.score_ppm) },
        { h: 'gold', num: true, f: (w) => w.gold_correct + '/' + w.gold_answers }, { h: 'paid', num: true, f: (w) => tnn(w.paid) },
        { h: 'slashed', num: true, f: (w) => (w.slashed ? tnn(w.slashed) : '') }, { h: 'note', f: (w) => w.reason || '' }], res.workers, { id: 'workers' }),
      h('h2', {}, 'Items: label and confidence (', res.method, ')'),
      table([
        { h: 'item', f: (it) => it.item }, { h: 'label', f: (it) => (it.label >= 0 ? res.labels[it.label] : '—') },
        { h: 'votes', num: true, f: (it) => it.votes }, { h: 'confidence', f: (it) => h('span', {}, ppm(it.confidence_ppm), bar(it.confidence_ppm / 1e6)) },
        { h: 'gold', f: (it) => (it.gold ? 'gold' : '') }], res.items, { id: 'items' }));
  } else {
    parts.push(h('p', { class: 'muted' }, 'Per-worker quality and per-item confidence appear when the job closes.'));
  }
  show(parts);
}
async function compute() {
  const [st, provs, jobs, pool] = await Promise.all([api('/status'), api('/query/compute/providers'), api('/query/compute/jobs?limit=200'), api('/query/compute/pool')]);
  const live2 = await api('/query/compute/providers?height=' + st.height);
  const alive = new Map(live2.map((p) => [p.address, p.live]));
  const byStatus = {};
  jobs.forEach((j) => { byStatus[j.status] = (byStatus[j.status] || 0) + 1; });
  show(h('h1', {}, 'Compute'),
    h('div', { class: 'cards' }, card('providers', provs.length, 'provider-count'), card('jobs', jobs.length, 'job-count'),
      card('verified jobs', pool.verified_jobs), card('spot-check pool', tnn(pool.balance)), card('open spot checks', pool.open_spot_checks)),
    h('h2', {}, 'Providers'), table([
      { h: 'provider', f: (p) => addrLink(p.address) }, { h: 'live', f: (p) => (alive.get(p.address) ? h('span', { class: 'ok' }, 'live') : h('span', { class: 'bad' }, 'silent')) },
      { h: 'stake', num: true, f: (p) => tnn(p.stake) }, { h: 'reputation', num: true, f: (p) => bps(p.reputation_bps) },
      { h: 'cores', num: true, f: (p) => p.cpu_cores }, { h: 'GPUs', f: (p) => p.gpus + (p.gpu_model ? ' × ' + p.gpu_model : '') },
      { h: 'price', num: true, f: (p) => tnn(p.price) }, { h: 'done', num: true, f: (p) => p.done }, { h: 'failed', num: true, f: (p) => p.failed },
      { h: 'slashed', num: true, f: (p) => p.slashed }], provs, { id: 'providers' }),
    h('h2', {}, 'Jobs by state'), barChart(Object.entries(byStatus).map(([k, v]) => ({ label: k, value: v })), { title: 'jobs by state' }),
    h('h2', {}, 'Jobs'), table([
      { h: 'id', f: (j) => a('#/compute/job/' + j.id, String(j.id)) }, { h: 'tenant', f: (j) => addrLink(j.tenant) }, { h: 'status', f: (j) => j.status },
      { h: 'stage', f: (j) => j.stage }, { h: 'redundancy', num: true, f: (j) => j.redundancy },
      { h: 'verdicts', f: (j) => (j.assignments || []).map((x) => x.verdict || x.status).join(', ') },
      { h: 'challenge', f: (j) => (j.challenge ? (j.challenge.outcome || 'open') : '') }, { h: 'budget', num: true, f: (j) => tnn(j.budget) }], jobs, { id: 'compute-jobs' }));
}
async function computeJob(_, id) {
  const j = await api('/query/compute/job/' + encodeURIComponent(id));
  show(h('h1', {}, 'Compute job ', j.id),
    kv([['status', h('span', { id: 'cjob-status' }, j.status)], ['stage', j.stage], ['tenant', addrLink(j.tenant)], ['posted', blockLink(j.posted)],
      ['redundancy', j.redundancy], ['units', j.units], ['budget', tnn(j.budget)], ['max price', tnn(j.max_price)],
      j.result ? ['result', h('span', {}, h('span', { class: 'mono' }, short(j.result.digest, 10)), ' ', cidLink(j.result.output), ' by ', j.result.by)] : null,
      j.ended ? ['ended', blockLink(j.ended)] : null, j.note ? ['note', j.note] : null]),
    h('h2', {}, 'Assignments and verification'), table([
      { h: 'provider', f: (x) => addrLink(x.provider) }, { h: 'stage', f: (x) => x.stage }, { h: 'status', f: (x) => x.status },
      { h: 'verdict', f: (x) => x.verdict || '' }, { h: 'digest', f: (x) => h('span', { class: 'mono' }, short(x.digest, 8)) },
      { h: 'paid', num: true, f: (x) => (x.paid ? tnn(x.paid) : '') }, { h: 'slashed', num: true, f: (x) => (x.slashed_amount ? tnn(x.slashed_amount) : '') }], j.assignments || [], { id: 'assignments' }),
    h('h2', {}, 'Challenge'), j.challenge ? kv([['challenger', addrLink(j.challenge.challenger)], ['bond', tnn(j.challenge.bond)], ['outcome', j.challenge.outcome || 'open'], ['height', blockLink(j.challenge.height)]]) : h('p', { class: 'muted' }, 'none'),
    h('h2', {}, 'Spot check'), j.spot_check ? kv([['source job', j.spot_check.source], ['expected digest', h('span', { class: 'mono' }, j.spot_check.expect)]]) : h('p', { class: 'muted' }, 'none'));
}
async function zkml() {
  const [circuits, models] = await Promise.all([api('/query/zkml/circuits'), api('/query/zkml/models')]);
  show(h('h1', {}, 'zkML'),
    h('h2', {}, 'Models'), table([
      { h: 'id', f: (m) => a('#/zkml/model/' + m.id, String(m.id)) }, { h: 'name', f: (m) => m.name }, { h: 'owner', f: (m) => addrLink(m.owner) },
      { h: 'commitment', f: (m) => h('span', { class: 'mono' }, short(String(m.commitment), 8)) }, { h: 'verified claims', num: true, f: (m) => m.claims },
      { h: 'height', f: (m) => blockLink(m.height) }], models, { id: 'models' }),
    h('h2', {}, 'Circuits (verifying keys)'), table([
      { h: 'id', f: (c) => h('span', { class: 'mono', title: c.id }, short(String(c.id), 8)) }, { h: 'public inputs', num: true, f: (c) => c.public_inputs },
      { h: 'registrant', f: (c) => addrLink(c.registrant) }, { h: 'height', f: (c) => blockLink(c.height) }], circuits, { id: 'circuits' }));
}
async function zkModel(_, id) {
  const [m, claims] = await Promise.all([api('/query/zkml/model/' + encodeURIComponent(id)), api('/query/zkml/claims/' + encodeURIComponent(id))]);
  show(h('h1', {}, 'Model ', m.id, ': ', h('span', { id: 'model-name' }, m.name)),
    kv([['owner', addrLink(m.owner)], ['commitment', h('span', { class: 'mono' }, String(m.commitment))], ['registered', blockLink(m.height)], ['verified claims', m.claims],
      ['architecture', json(m.arch)], ['lineage', a('#/lineage/' + encodeURIComponent('model/' + m.id), 'graph')]]),
    h('h2', {}, 'Claims (each verified by the chain with a Groth16 proof)'), table([
      { h: 'seq', f: (c) => c.seq }, { h: 'kind', f: (c) => c.kind }, { h: 'accuracy', num: true, f: (c) => (c.accuracy_bps != null ? bps(c.accuracy_bps) : '') },
      { h: 'verification', f: () => h('span', { class: 'ok' }, 'proof verified') }, { h: 'prover', f: (c) => addrLink(c.prover) },
      { h: 'height', f: (c) => blockLink(c.height) }], claims, { id: 'claims' }));
}
async function subnets() {
  const list = await api('/query/subnet/subnets');
  show(h('h1', {}, 'Subnets'), table([
    { h: 'id', f: (x) => a('#/subnet/' + x.id, String(x.id)) }, { h: 'task', f: (x) => x.task }, { h: 'owner', f: (x) => addrLink(x.owner) },
    { h: 'uids', num: true, f: (x) => x.n }, { h: 'epochs', num: true, f: (x) => x.epoch }, { h: 'tempo', num: true, f: (x) => x.tempo },
    { h: 'emitted', num: true, f: (x) => tnn(x.minted) }], list, { id: 'subnets' }));
}
async function subnet(_, id) {
  const [info, mg, epochs, models] = await Promise.all([api('/query/subnet/info/' + encodeURIComponent(id)), api('/query/subnet/metagraph/' + encodeURIComponent(id)), api('/query/subnet/epochs/' + encodeURIComponent(id)), maybe('/query/subnet/models/' + encodeURIComponent(id), [])]);
  const perUID = (field) => {
    const by = new Map();
    epochs.forEach((e) => e.uids.forEach((u) => { if (!by.has(u.uid)) by.set(u.uid, []); by.get(u.uid).push([e.epoch, Number(u[field]) / 65535]); }));
    return [...by.entries()].sort((x, y) => x[0] - y[0]).map(([uid, points]) => ({ name: 'uid ' + uid, points }));
  };
  const chart = (title, field) => {
    const ser = perUID(field);
    return h('div', {}, h('h2', {}, title, ' per uid across epochs'), legend(ser.map((x) => x.name)), lineChart(ser, { title, fmt: (v) => v.toFixed(2), ymax: 1 }));
  };
  const uids = mg.map((n) => n.uid);
  const bonds = s('svg', { class: 'chart', viewBox: `0 0 ${40 + 26 * uids.length} ${30 + 26 * uids.length}`, width: Math.min(600, 60 + 26 * uids.length), role: 'img', 'aria-label': 'bonds' });
  mg.forEach((n, i) => {
    bonds.appendChild(s('text', { x: 2, y: 44 + 26 * i }, 'uid ' + n.uid));
    uids.forEach((u, j) => {
      const b = (n.bonds || []).find((p) => p.uid === u);
      const v = b ? b.value / 65535 : 0;
      bonds.appendChild(s('rect', { x: 40 + 26 * j, y: 28 + 26 * i, width: 24, height: 24, fill: `rgba(47,111,208,${(0.08 + 0.92 * v).toFixed(3)})` }, s('title', {}, `bond of uid ${n.uid} on uid ${u}: ${v.toFixed(4)}`)));
    });
  });
  uids.forEach((u, j) => bonds.appendChild(s('text', { x: 44 + 26 * j, y: 22 }, String(u))));
  show(h('h1', {}, 'Subnet ', info.id, ': ', info.task),
    h('div', { class: 'cards' }, card('uids', info.n), card('miners', info.miners), card('validators', info.validators), card('epochs run', info.epoch, 'epoch-count'),
      card('pool stake', tnn(info.pool_stake)), card('emitted', tnn(info.minted))),
    h('h2', {}, 'Metagraph'), table([
      { h: 'uid', f: (n) => n.uid }, { h: 'account', f: (n) => addrLink(n.account) }, { h: 'role', f: (n) => n.role }, { h: 'stake', num: true, f: (n) => tnn(n.stake) },
      { h: 'incentive', num: true, f: (n) => u16(n.incentive) }, { h: 'dividends', num: true, f: (n) => u16(n.dividends) }, { h: 'consensus', num: true, f: (n) => u16(n.consensus) },
      { h: 'trust', num: true, f: (n) => u16(n.validator_trust) }, { h: 'emission', num: true, f: (n) => tnn(n.emission) }, { h: 'earned', num: true, f: (n) => tnn(n.earned) }], mg, { id: 'metagraph' }),
    h('div', { class: 'grid2' }, chart('Incentive', 'incentive'), chart('Dividends', 'dividends')),
    h('div', { class: 'grid2' }, chart('Consensus', 'consensus'), chart('Validator trust', 'validator_trust')),
    h('h2', {}, 'Verified models served'), table([
      { h: 'model', f: (m) => a('#/zkml/model/' + m.model, 'model ' + m.model) }, { h: 'claim', f: (m) => m.claim }, { h: 'trust', f: (m) => m.trust },
      { h: 'royalty', num: true, f: (m) => bps(m.royalty_bps) }, { h: 'to data', num: true, f: (m) => bps(m.data_bps) },
      { h: 'miners', f: (m) => (m.miners || []).map((u) => 'uid ' + u).join(', ') }, { h: 'earned', num: true, f: (m) => tnn(m.earned) },
      { h: 'paid to', f: (m) => h('span', {}, (m.revenues || []).map((r) => h('div', {}, addrLink(r.address), ' ', r.role, r.source ? ' (' + r.source + ')' : '', ': ', tnn(r.amount)))) },
      { h: 'lineage', f: (m) => a('#/lineage/' + encodeURIComponent(m.ref), 'graph') }], models, { id: 'served-models' }),
    h('div', { class: 'grid2' }, h('div', {}, h('h2', {}, 'Bonds (row: validator, column: miner)'), bonds), (() => { // each validator's bond on each miner, epoch by epoch
      const by = new Map();
      epochs.forEach((e) => e.uids.forEach((u) => (u.bonds || []).forEach((b) => {
        const k = 'uid ' + u.uid + ' on ' + b.uid;
        if (!by.has(k)) by.set(k, []);
        by.get(k).push([e.epoch, b.value / 65535]);
      })));
      const ser = [...by.entries()].sort().map(([name, points]) => ({ name, points }));
      return h('div', { id: 'bond-history' }, h('h2', {}, 'Bonds across epochs'), legend(ser.map((x) => x.name)), lineChart(ser, { title: 'bonds across epochs', fmt: (v) => v.toFixed(2), ymax: 1 }));
    })()),
    h('h2', {}, 'Epochs'), table([
      { h: 'epoch', f: (e) => e.epoch }, { h: 'height', f: (e) => blockLink(e.height) }, { h: 'emission', num: true, f: (e) => tnn(e.emission) },
      { h: 'paid', num: true, f: (e) => tnn(e.paid) }, { h: 'carried', num: true, f: (e) => tnn(e.carry) }], epochs.slice().reverse(), { id: 'epochs' }));
}
async function pipelines() {
  const list = await maybe('/query/pipeline/pipelines', null);
  if (list === null) { show(h('h1', {}, 'Pipelines'), h('p', { class: 'muted', id: 'no-pipelines' }, 'This chain runs no pipeline market.')); return; }
  show(h('h1', {}, 'Pipelines'), table([
    { h: 'id', f: (x) => a('#/pipeline/' + x.id, String(x.id)) }, { h: 'name', f: (x) => (x.spec && x.spec.name) || '' },
    { h: 'owner', f: (x) => addrLink(x.owner) }, { h: 'status', f: (x) => x.status || '' }, { h: 'stage', f: (x) => x.stage || '' },
    { h: 'budget', num: true, f: (x) => String(x.budget) }, { h: 'reason', f: (x) => x.reason || '' }], list, { id: 'pipelines' }));
}
// stageLink points a stage's object at its own page.
function stageLink(ref) {
  if (!ref) return '';
  let m;
  if ((m = ref.match(/^label-job\/(\d+)$/))) return a('#/label/' + m[1], ref);
  if ((m = ref.match(/^compute-job\/(\d+)$/))) return a('#/compute/job/' + m[1], ref);
  if ((m = ref.match(/^claim\/(\d+)\.\d+$/))) return a('#/zkml/model/' + m[1], ref);
  if ((m = ref.match(/^subnet\/(\d+)\.\d+$/))) return a('#/subnet/' + m[1], ref);
  return h('span', { class: 'mono' }, ref);
}
async function pipeline(_, id) {
  const p = await api('/query/pipeline/pipeline/' + encodeURIComponent(id));
  const spent = p.stages.reduce((t, st) => t + Number(st.spent || 0), 0);
  const single = p.trust && /single-party/.test(p.trust);
  show(h('h1', {}, 'Pipeline ', p.id, ': ', (p.spec && p.spec.name) || ''),
    h('div', { class: 'cards' }, card('status', p.status, 'pipe-status'), card('stage', p.stage, 'pipe-stage'), card('budget', tnn(p.budget)),
      card('spent', tnn(spent), 'pipe-spent'), card('refunded', tnn(p.refunded), 'pipe-refunded'),
      card('accuracy proven', p.accuracy_bps ? bps(p.accuracy_bps) : '—', 'pipe-accuracy')),
    p.reason ? h('p', { class: 'error', id: 'pipe-reason' }, p.reason) : [],
    p.trust ? h('p', { class: single ? 'warn' : null, id: 'pipe-trust' }, 'Trust: ' + p.trust) : [],
    h('h2', {}, 'Stages'), table([
      { h: 'stage', f: (st) => st.stage }, { h: 'object', f: (st) => stageLink(st.ref) },
      { h: 'started', f: (st) => blockLink(st.started) }, { h: 'ended', f: (st) => (st.ended ? blockLink(st.ended) : 'running') },
      { h: 'blocks', num: true, f: (st) => String((st.ended || st.started) - st.started) },
      { h: 'budget', num: true, f: (st) => tnn(st.budget) }, { h: 'spent', num: true, f: (st) => tnn(st.spent) }], p.stages, { id: 'stages' }),
    h('h2', {}, 'Paid out per stage'),
    barChart(p.stages.map((st) => ({ label: st.stage, value: Number(st.spent || 0) })), { fmt: (v) => tnn(v), title: 'paid out per stage' }),
    h('h2', {}, 'Where it came from'),
    kv([['owner', addrLink(p.owner)], ['escrow account', addrLink(p.account)],
      ['dataset', p.spec && p.spec.dataset ? a('#/data/' + p.spec.dataset.dataset, 'dataset/' + p.spec.dataset.dataset + '@' + p.spec.dataset.version) : ''],
      p.labelled ? ['labelled dataset', a('#/data/' + p.labelled, 'dataset/' + p.labelled + '@1')] : null,
      p.model ? ['model', a('#/zkml/model/' + p.model, 'model ' + p.model)] : null,
      ['lineage', a('#/lineage/' + encodeURIComponent('pipeline/' + p.id), 'graph of every contributor, annotator and provider')]]),
    h('details', {}, h('summary', {}, 'Raw record'), json(p)));
}

// ---- wiring ------------------------------------------------------------
document.getElementById('search').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = document.getElementById('q').value.trim();
  location.hash = '#/search/' + encodeURIComponent(q);
});
window.addEventListener('hashchange', route);
route();
