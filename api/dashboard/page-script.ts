// The dashboard's client script, inlined into the page: it polls `/dashboard/data` and
// `/readyz` every 2 s and builds every node with textContent (route names and events are data).

export const SCRIPT = `
'use strict';
const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);
const h = (tag, props, ...children) => {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children) node.append(child);
  return node;
};
const MB = 1048576;
const mb = (bytes) => Math.round(bytes / MB) + ' MB';
const size = (bytes) => bytes < 1024 ? bytes + ' B' : bytes < MB ? Math.round(bytes / 1024) + ' KB' : mb(bytes);
const pct = (p) => Math.round(p * 10) / 10 + ' %';
const rate = (r) => (r === null ? '—' : Math.round(r * 100) + ' %');
const dur = (ms) => ms === null ? '—' : ms >= 1000 ? (ms / 1000).toFixed(2) + ' s'
  : ms >= 10 ? Math.round(ms) + ' ms' : ms.toFixed(1) + ' ms';
const clock = (iso) => new Date(iso).toLocaleTimeString();
const setSev = (node, base, sev) => { node.className = base + ' sev' + Math.min(sev, 3); };

let gaugeFor = '';
function drawGauge(t) {
  const key = JSON.stringify(t);
  if (key === gaugeFor) return;
  gaugeFor = key;
  const gauge = $('gauge');
  for (const old of gauge.querySelectorAll('.tick')) old.remove();
  const tick = (at, cls, text) => gauge.append(h('div', { className: 'tick ' + cls,
    style: 'left:' + at + '%', title: text }, h('span', { textContent: at })));
  for (const level of t.alert_levels) tick(level, 'alert', 'alert at ' + level + ' %');
  tick(t.clear_at, 'relief', 'caches cleared at ' + t.clear_at + ' %');
  tick(t.shed_at, 'shed', 'complex queries refused at ' + t.shed_at + ' %');
  $('mem-legend').replaceChildren('Alerts at ', h('b', { textContent: t.alert_levels.join(' / ') + ' %' }),
    ' · caches cleared at ', h('b', { textContent: t.clear_at + ' %', className: 'relief' }),
    ' · uncached complex queries refused at ', h('b', { textContent: t.shed_at + ' %' }));
}

function showMemory(m) {
  drawGauge(m.thresholds);
  const sev = m.shedding ? 3 : m.severity;
  $('mem-pct').textContent = pct(m.usage_pct);
  setSev($('mem-pct'), 'big', sev);
  setSev($('memory-card'), 'card span2', sev);
  $('mem-used').textContent = mb(m.rss_bytes);
  $('mem-budget').textContent = 'of ' + mb(m.budget_bytes) + ' budget';
  $('mem-fill').style.width = Math.min(100, m.usage_pct) + '%';
  setSev($('mem-fill'), 'fill', sev);
  const lines = [];
  if (m.shedding) lines.push('Shedding: uncached complex queries get 503 (from ' + m.thresholds.shed_at + ' %)');
  if (m.relief) lines.push('Relief: caches are being cleared (from ' + m.thresholds.clear_at + ' %)');
  lines.push(m.level === null
    ? 'Below every alert level (first at ' + m.thresholds.alert_levels[0] + ' %)'
    : 'Above the ' + m.level + ' % alert level');
  $('mem-state').replaceChildren(...lines.map((text) => h('div', { textContent: text })));
  setSev($('mem-state'), 'state', sev);
  const loop = m.event_loop_delay_p99_ms === null ? '' : ' · event-loop p99 ' + dur(m.event_loop_delay_p99_ms);
  $('mem-extra').textContent = 'V8 heap ' + mb(m.heap_used_bytes) + ' of ' + mb(m.heap_total_bytes) + loop +
    (m.source === 'process' ? ' · read from this process (no monitor)' : '');
}

function showRequests(r) {
  $('requests').textContent = r ? r.total.toLocaleString('en') : 'metrics off';
  const body = $('latency').tBodies[0];
  if (!r) { body.replaceChildren(h('tr', {}, h('td', { colSpan: 6, textContent: 'metrics are off', className: 'unknown' }))); return; }
  body.replaceChildren(...r.latency.map((row) => {
    const cell = (ms) => h('td', { className: 'num' + (ms !== null && ms >= 1000 ? ' slow' : ''), textContent: dur(ms) });
    const tr = h('tr', {}, h('td', {}, h('code', { textContent: row.route })), h('td', { textContent: row.message_class }),
      h('td', { className: 'num count', textContent: row.count.toLocaleString('en') }),
      cell(row.p50_ms), cell(row.p95_ms), cell(row.p99_ms));
    tr.dataset.route = row.route;
    tr.dataset.class = row.message_class;
    return tr;
  }));
}

function showModel(c) {
  if (!c) { $('model-rate').textContent = 'metrics off'; $('model-note').textContent = ''; return; }
  $('model-rate').textContent = c.per_minute === null ? '…' : String(c.per_minute);
  $('model-note').textContent = (c.per_minute === null ? 'measuring · ' : 'over the last ' + c.window_s + ' s · ') +
    c.total.toLocaleString('en') + (c.total === 1 ? ' call' : ' calls') + ' since start, ' + c.errors + ' failed';
  $('model-note').className = 'small' + (c.errors > 0 ? ' down' : '');
}

function showQueue(depth) {
  $('queue').textContent = depth === null ? 'unknown' : depth.toLocaleString('en');
  $('queue').className = 'big' + (depth === null ? ' unknown' : '');
}

function showCaches(caches) {
  const box = $('caches');
  if (!caches) { box.replaceChildren(h('div', { className: 'unknown', textContent: 'metrics are off' })); return; }
  if (caches.length === 0) { box.replaceChildren(h('div', { className: 'unknown', textContent: 'no caches' })); return; }
  box.replaceChildren(...caches.map((c) => {
    const row = h('div', { className: 'cache' }, h('div', { className: 'name', textContent: c.cache }),
      h('div', { className: 'big rate', textContent: rate(c.hit_rate) }),
      h('div', { className: 'small' }, c.reads.toLocaleString('en') + ' reads', h('br'),
        ...c.tiers.map((t) => {
          const tier = h('span', { className: 'tier', title: t.hits + ' hits, ' + t.misses + ' misses' },
            t.tier + ' ', h('b', { className: 'rate', textContent: rate(t.hit_rate) }),
            ' (' + t.hits + '/' + (t.hits + t.misses) + ')');
          tier.dataset.tier = t.tier;
          return tier;
        })));
    row.dataset.cache = c.cache;
    return row;
  }));
}

function describe(e, levels) {
  if (e.kind === 'alert') {
    return { dot: 'sev' + Math.min(3, levels.indexOf(e.level) + 1),
      text: 'Crossed ' + e.level + ' % (' + e.used_mb + ' of ' + e.budget_mb + ' MB)' };
  }
  if (e.kind === 'relief') {
    const freed = Object.entries(e.freed).map(([name, bytes]) => name + ' ' + size(bytes));
    return { dot: 'relief', text: 'Cleared caches at ' + e.usage_pct + ' %: ' + freed.join(', ') };
  }
  return e.active
    ? { dot: 'sev3', text: 'Shedding started at ' + e.usage_pct + ' %' }
    : { dot: 'sev0', text: 'Shedding stopped at ' + e.usage_pct + ' %' };
}

function showEvents(events, levels) {
  const list = $('events');
  if (events.length === 0) { list.replaceChildren(h('li', { className: 'unknown', textContent: 'No alerts since start' })); return; }
  list.replaceChildren(...events.map((e) => {
    const d = describe(e, levels);
    const li = h('li', {}, h('span', { className: 'dot ' + d.dot }), h('time', { textContent: clock(e.at) }),
      h('span', { className: 'text', textContent: d.text }));
    li.dataset.kind = e.kind;
    return li;
  }));
}

function showReady(ready) {
  const up = ready && ready.status === 'ready';
  const text = ready ? ready.status : 'unreachable';
  $('ready').textContent = text;
  $('ready').className = 'pill ' + (up ? 'ok' : 'down');
  $('ready-big').textContent = text;
  $('ready-big').className = 'big ' + (up ? 'ok' : 'down');
  const checks = ready ? Object.entries(ready.checks) : [];
  $('checks').replaceChildren(...(checks.length === 0 ? [h('div', { textContent: 'no dependencies checked' })]
    : checks.map(([name, c]) => showCheck(name, c))));
}

// A service this process supervises reads 'restarting' while it is brought back.
function showCheck(name, c) {
  const restarting = !c.ok && c.error === 'restarting';
  const state = c.ok ? c.ms + ' ms' : restarting ? 'restarting' : 'down' + (c.error ? ' (' + c.error + ')' : '');
  const row = h('div', { className: c.ok ? 'ok' : restarting ? 'sev1' : 'down', textContent: name + ': ' + state });
  row.dataset.check = name;
  row.dataset.state = c.ok ? 'ok' : restarting ? 'restarting' : 'down';
  return row;
}

let failingSince = null;
async function refresh() {
  try {
    const [data, ready] = await Promise.all([
      fetch('/dashboard/data', { cache: 'no-store' }).then((r) => { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); }),
      fetch('/readyz', { cache: 'no-store' }).then((r) => r.json()).catch(() => null),
    ]);
    showMemory(data.memory);
    showRequests(data.requests);
    showModel(data.model_calls);
    showQueue(data.narrative_queue_depth);
    showCaches(data.caches);
    showEvents(data.recent_events, data.memory.thresholds.alert_levels);
    showReady(ready);
    $('uptime').textContent = 'up ' + Math.round(data.uptime_s) + ' s';
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString() + ' · every ' + POLL_MS / 1000 + ' s';
    document.body.dataset.loaded = 'true';
    failingSince = null;
  } catch (error) {
    showReady(null);
    failingSince = failingSince || new Date().toLocaleTimeString();
    $('updated').textContent = 'API unreachable since ' + failingSince + ': figures are stale';
  } finally {
    setTimeout(refresh, POLL_MS);
  }
}
refresh();
`;
