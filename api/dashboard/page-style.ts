// The dashboard's stylesheet, inlined into the page: system fonts only, no external assets.

/**
 * The page's CSS. A threshold state is coloured by class: `sev0` below every alert level,
 * then one step per level reached, to `sev3`.
 */
export const STYLE = `
  :root { --ok: #188038; --sev1: #b06000; --sev2: #e8710a; --sev3: #d93025; --relief: #1a73e8;
    --ink: #1d2433; --muted: #5f6b7a; --line: #e3e6eb; --card: #fff; --bg: #f3f5f8; }
  * { box-sizing: border-box; }
  body { font: 15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
    color: var(--ink); background: var(--bg); }
  header { display: flex; align-items: center; gap: 1rem; padding: .9rem 1.5rem;
    background: #1d2433; color: #fff; }
  header h1 { font-size: 1.15rem; margin: 0; font-weight: 600; }
  header .muted { color: #aeb6c2; margin-left: auto; font-size: .85rem; }
  .pill { padding: .15rem .7rem; border-radius: 999px; font-weight: 600; font-size: .85rem;
    background: #5f6b7a; color: #fff; }
  .pill.ok { background: var(--ok); color: #fff; } .pill.down { background: var(--sev3); color: #fff; }
  main { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 1rem;
    padding: 1.25rem 1.5rem; }
  .card { background: var(--card); border-radius: 10px; padding: 1rem 1.1rem;
    box-shadow: 0 1px 2px #0002; border-top: 4px solid var(--line); min-width: 0; }
  .span2 { grid-column: span 2; } .span4 { grid-column: span 4; }
  .label { color: var(--muted); font-size: .75rem; text-transform: uppercase;
    letter-spacing: .06em; font-weight: 600; }
  .big { font-size: 2.6rem; font-weight: 700; line-height: 1.1; margin: .25rem 0;
    font-variant-numeric: tabular-nums; }
  .small { color: var(--muted); font-size: .85rem; }
  .unknown { color: var(--muted); }
  .sev0 { color: var(--ok); } .sev1 { color: var(--sev1); } .sev2 { color: var(--sev2); }
  .sev3 { color: var(--sev3); }
  .card.sev0 { border-top-color: var(--ok); } .card.sev1 { border-top-color: var(--sev1); }
  .card.sev2 { border-top-color: var(--sev2); } .card.sev3 { border-top-color: var(--sev3); }
  .memrow { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
  .gauge { position: relative; height: 1.1rem; background: var(--line); border-radius: 6px;
    margin: .8rem 0 1.6rem; }
  .gauge .fill { position: absolute; inset: 0 auto 0 0; border-radius: 6px; width: 0;
    background: var(--ok); }
  .gauge .fill.sev1 { background: var(--sev1); } .gauge .fill.sev2 { background: var(--sev2); }
  .gauge .fill.sev3 { background: var(--sev3); }
  .tick { position: absolute; top: -.25rem; bottom: -.25rem; width: 2px; background: #1d2433aa; }
  .tick.relief { background: var(--relief); } .tick.shed { background: var(--sev3); }
  .tick span { position: absolute; top: 1.45rem; left: 50%; transform: translateX(-50%);
    font-size: .72rem; color: var(--muted); white-space: nowrap; }
  .state { font-weight: 600; margin-top: .2rem; }
  .state div { margin-top: .15rem; }
  .legend { margin-top: .5rem; }
  .legend b { font-weight: 600; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
  th { color: var(--muted); font-size: .75rem; text-transform: uppercase; letter-spacing: .05em; }
  td.num, th.num { text-align: right; }
  td.slow { color: var(--sev3); font-weight: 600; }
  code { font: .85rem ui-monospace, "SFMono-Regular", Menlo, monospace; }
  .caches { display: grid; gap: .8rem; margin-top: .4rem; }
  .cache { display: flex; align-items: center; gap: 1rem; flex-wrap: wrap; }
  .cache .big { font-size: 2rem; min-width: 5.5rem; }
  .cache .name { font-weight: 600; min-width: 4rem; }
  .tier { display: inline-block; margin-right: .8rem; }
  .tier b { font-variant-numeric: tabular-nums; }
  ul.events { list-style: none; padding: 0; margin: .4rem 0 0; max-height: 18rem; overflow: auto; }
  ul.events li { padding: .3rem 0; border-bottom: 1px solid var(--line); display: flex; gap: .6rem; }
  ul.events time { color: var(--muted); font-variant-numeric: tabular-nums; }
  .dot { width: .7rem; height: .7rem; border-radius: 50%; margin-top: .35rem; flex: none;
    background: var(--muted); }
  .dot.sev0 { background: var(--ok); } .dot.sev1 { background: var(--sev1); }
  .dot.sev2 { background: var(--sev2); } .dot.sev3 { background: var(--sev3); }
  .dot.relief { background: var(--relief); }
  .checks div { margin-top: .2rem; }
  .ok { color: var(--ok); } .down { color: var(--sev3); }
  @media (max-width: 1000px) { main { grid-template-columns: repeat(2, minmax(0, 1fr)); }
    .span4 { grid-column: span 2; } }
  @media (max-width: 600px) { main { grid-template-columns: 1fr; }
    .span2, .span4 { grid-column: span 1; } }
`;
