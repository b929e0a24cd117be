import { Router } from 'express';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>memory-engine</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d2433; background: #f6f7f9; }
  h1 { font-size: 1.3rem; margin: 0 0 1rem; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 1rem; }
  .card { background: #fff; border-radius: 8px; padding: 1rem; box-shadow: 0 1px 2px #0002; }
  .label { color: #667; font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; }
  .value { font-size: 1.6rem; font-weight: 600; margin-top: .2rem; }
  .ok { color: #137333; } .down { color: #b3261e; }
  .bar { height: .5rem; background: #e3e6eb; border-radius: 4px; margin-top: .5rem; overflow: hidden; }
  .bar > div { height: 100%; background: #3b6fd8; }
</style>
</head>
<body>
<h1>memory-engine <span id="updated" class="label"></span></h1>
<div class="grid">
  <div class="card"><div class="label">Readiness</div><div class="value" id="ready">…</div><div id="checks"></div></div>
  <div class="card"><div class="label">Resident memory</div><div class="value" id="rss">…</div>
    <div class="bar"><div id="rssbar" style="width:0"></div></div><div class="label" id="budget"></div></div>
  <div class="card"><div class="label">V8 heap used</div><div class="value" id="heap">…</div></div>
  <div class="card"><div class="label">Uptime</div><div class="value" id="uptime">…</div></div>
</div>
<script>
const mb = (b) => (b / 1048576).toFixed(0) + ' MB';
async function refresh() {
  try {
    const [ready, status] = await Promise.all([
      fetch('/readyz').then((r) => r.json()),
      fetch('/status').then((r) => r.json()),
    ]);
    const el = (id) => document.getElementById(id);
    el('ready').textContent = ready.status;
    el('ready').className = 'value ' + (ready.status === 'ready' ? 'ok' : 'down');
    el('checks').innerHTML = Object.entries(ready.checks).map(([name, c]) =>
      '<div class="' + (c.ok ? 'ok' : 'down') + '">' + name + ': ' + (c.ok ? c.ms + ' ms' : 'down') + '</div>').join('');
    el('rss').textContent = mb(status.memory.rss);
    el('budget').textContent = 'of ' + mb(status.memory.budget) + ' budget';
    el('rssbar').style.width = Math.min(100, 100 * status.memory.rss / status.memory.budget).toFixed(1) + '%';
    el('heap').textContent = mb(status.memory.heapUsed);
    el('uptime').textContent = Math.round(status.uptime_s) + ' s';
    el('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    document.getElementById('ready').textContent = 'unreachable';
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>`;

/** `/dashboard`: a self-contained live page (no CDN), and `/status`, the figures it polls. */
export function dashboardRoutes(memoryBudgetMb: number): Router {
  const router = Router();
  router.get('/dashboard', (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get('/status', (_req, res) => {
    const usage = process.memoryUsage();
    res.json({
      uptime_s: process.uptime(),
      memory: {
        rss: usage.rss,
        heapUsed: usage.heapUsed,
        heapTotal: usage.heapTotal,
        external: usage.external,
        budget: memoryBudgetMb * 1024 * 1024,
      },
    });
  });
  return router;
}
