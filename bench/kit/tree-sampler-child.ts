// The memory and CPU sampler of the product's process tree, in a process of its own:
// `node --import tsx bench/kit/tree-sampler-child.ts <root pid> [every ms]`. It reads
// /proc (stat and status every 500 ms, smaps_rollup every 5 s, of every process in the tree), which
// takes milliseconds of synchronous work per sample that the load generator's event
// loop must not carry, and answers the benchmark over IPC (tree-sampler.ts).
import { serveRpc } from './child-rpc.ts';
import { treeTracker } from './process-tree.ts';

const root = Number(process.argv[2]);
const everyMs = Number(process.argv[3] ?? 500);
if (!Number.isInteger(root) || root <= 0 || !(everyMs > 0)) {
  console.error('usage: tree-sampler-child.ts <root pid> [every ms]');
  process.exit(2);
}

const tracker = treeTracker(root);
// What each sample costs: the synchronous work this process spares the load generator.
const cost = { samples: 0, totalMs: 0, maxMs: 0 };
const sample = () => {
  const t0 = performance.now();
  const processes = tracker.sample();
  const ms = performance.now() - t0;
  cost.samples++;
  cost.totalMs += ms;
  cost.maxMs = Math.max(cost.maxMs, ms);
  return processes;
};
sample();
setInterval(sample, everyMs);
const served = serveRpc(
  {
    sample,
    peak: () => (sample(), tracker.peak()),
    resetPeak: () => tracker.resetPeak(),
    seen: () => tracker.seen(),
    cost: () => ({ ...cost }),
  },
  { root, everyMs },
);
if (!served) {
  console.error('tree-sampler-child.ts answers a parent over IPC: start it with an IPC channel');
  process.exit(2);
}
