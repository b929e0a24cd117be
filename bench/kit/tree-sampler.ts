// The benchmark's side of the process-tree sampler (tree-sampler-child.ts): the
// sampler runs in its own process, and this process only asks it for figures.
import path from 'node:path';
import { spawnRpcChild } from './child-rpc.ts';
import type { PeakFigures, TreeProcess } from './process-tree.ts';

export interface SamplerCost {
  samples: number;
  totalMs: number;
  maxMs: number;
}

/** The product's process tree, sampled every 500 ms by a process of its own. */
export interface TreeSampler {
  /** The sampler process (outside the product's tree), to count its own CPU apart. */
  pid: number;
  /** A fresh sample: every live process of the tree. */
  sample(): Promise<TreeProcess[]>;
  /** A fresh sample, then the peaks so far: the root's RSS and VmHWM, the tree's sums. */
  peak(): Promise<PeakFigures>;
  /** Starts new peaks (e.g. a measured run after seeding on the same process). */
  resetPeak(): Promise<void>;
  /** Every pid the tree has had, to stop the survivors. */
  seen(): Promise<number[]>;
  /** The samples taken so far and the synchronous /proc work they cost (ms). */
  cost(): Promise<SamplerCost>;
  stop(): Promise<void>;
}

/** Starts sampling the tree under `root` every `everyMs`; the sampler's output goes to `logFile`. */
export async function startTreeSampler(opts: {
  root: number;
  projectRoot: string;
  logFile: string;
  everyMs?: number;
}): Promise<TreeSampler> {
  const child = await spawnRpcChild({
    entry: path.join('bench', 'kit', 'tree-sampler-child.ts'),
    nodeArgs: ['--import', 'tsx'],
    args: [String(opts.root), String(opts.everyMs ?? 500)],
    cwd: opts.projectRoot,
    logFile: opts.logFile,
  });
  return {
    pid: child.pid,
    sample: () => child.call('sample'),
    peak: () => child.call('peak'),
    resetPeak: () => child.call('resetPeak'),
    seen: () => child.call('seen'),
    cost: () => child.call('cost'),
    stop: () => child.stop(),
  };
}
