// The live dashboard: one self-contained page (inline CSS and JS, system fonts, nothing
// fetched but this API's own `/dashboard/data` and `/readyz`), so it works offline.

import { SCRIPT } from './page-script.ts';
import { STYLE } from './page-style.ts';

const BODY = `
<header>
  <h1>memory-engine</h1>
  <span id="ready" class="pill">…</span>
  <span id="updated" class="muted">connecting…</span>
</header>
<main>
  <section class="card span2" id="memory-card">
    <div class="label">Memory: resident set against the budget</div>
    <div class="memrow">
      <div class="big" id="mem-pct">…</div>
      <div><span class="big" id="mem-used" style="font-size:1.6rem">…</span>
        <span class="small" id="mem-budget"></span></div>
    </div>
    <div class="gauge" id="gauge"><div class="fill" id="mem-fill"></div></div>
    <div class="state" id="mem-state"></div>
    <div class="small legend" id="mem-legend"></div>
    <div class="small" id="mem-extra"></div>
  </section>
  <section class="card">
    <div class="label">Requests since start</div>
    <div class="big" id="requests">…</div>
    <div class="small" id="requests-note">all routes</div>
  </section>
  <section class="card">
    <div class="label">Model calls / minute</div>
    <div class="big" id="model-rate">…</div>
    <div class="small" id="model-note"></div>
  </section>
  <section class="card span2">
    <div class="label">Latency by route and message class (since start)</div>
    <table id="latency">
      <thead><tr><th>Route</th><th>Class</th><th class="num">Requests</th>
        <th class="num">p50</th><th class="num">p95</th><th class="num">p99</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section class="card">
    <div class="label">Narrative queue</div>
    <div class="big" id="queue">…</div>
    <div class="small">narratives waiting to be written</div>
  </section>
  <section class="card">
    <div class="label">Readiness</div>
    <div class="big" id="ready-big" style="font-size:1.6rem">…</div>
    <div class="checks small" id="checks"></div>
    <div class="small" id="uptime"></div>
  </section>
  <section class="card span2">
    <div class="label">Cache hit rates (all tiers, then per tier)</div>
    <div class="caches" id="caches"></div>
  </section>
  <section class="card span2">
    <div class="label">Recent memory alerts</div>
    <ul class="events" id="events"></ul>
  </section>
</main>
`;

/** The `/dashboard` page. */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>memory-engine dashboard</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>`;
