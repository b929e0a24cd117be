// A process and all its descendants, read from /proc: what they are (node API or
// worker, postgres, temporal), their resident memory summed, and the CPU each used,
// so a product that starts its own database and Temporal is measured whole.
import fs from 'node:fs';

/** What a process in the product's tree is. */
export type ProcessKind = 'node' | 'postgres' | 'temporal' | 'other';

export interface TreeProcess {
  pid: number;
  ppid: number;
  kind: ProcessKind;
  /**
   * `api` for a Node cluster worker (NODE_UNIQUE_ID set), `worker` for a process the
   * product says is one (MEMENGINE_LAYOUT_CHILD=worker), `main` for the root.
   */
  role: 'main' | 'api' | 'worker' | 'child';
  rssKb: number;
  /** Proportional set size: shared pages (PostgreSQL's shared buffers) split among their users. */
  pssKb: number;
  /** User plus system CPU time so far, in clock ticks. */
  cpuTicks: number;
  name: string;
}

const CLOCK_TICKS = 100;

function readStat(pid: number): { ppid: number; comm: string; ticks: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return {
      comm: stat.slice(stat.indexOf('(') + 1, close),
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    return null;
  }
}

/**
 * How often a process's PSS is read again. `smaps_rollup` walks every mapping of
 * the process under its memory-map lock: 25-300 ms for the product's Node
 * process, time in which the product's own threads wait to fault pages in. So
 * RSS (`status`, cheap) is read every sample and PSS at most every 5 s (the
 * last value stands in between).
 */
const PSS_EVERY_MS = 5_000;
const lastPss = new Map<number, { pssKb: number; at: number }>();

function memoryKb(pid: number): { rssKb: number; pssKb: number } {
  const read = (file: string, field: string) => {
    try {
      const text = fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
      return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  const now = performance.now();
  let pss = lastPss.get(pid);
  if (!pss || now - pss.at >= PSS_EVERY_MS) {
    pss = { pssKb: read('smaps_rollup', 'Pss'), at: now };
    lastPss.set(pid, pss);
  }
  return { rssKb: read('status', 'VmRSS'), pssKb: pss.pssKb };
}

function kindOf(pid: number, comm: string) {
  let cmd = '';
  let role: 'api' | 'worker' | 'child' = 'child';
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
    if (environ.includes('\0NODE_UNIQUE_ID=')) role = 'api';
    else if (environ.includes('\0MEMENGINE_LAYOUT_CHILD=worker')) role = 'worker';
  } catch {
    // gone, or not readable: classified by its name alone
  }
  const text = `${comm} ${cmd}`;
  const kind: ProcessKind =
    /temporal/i.test(comm) || /temporal\S* server start-dev/.test(cmd)
      ? 'temporal'
      : /postgres|postmaster/.test(text)
        ? 'postgres'
        : /node|tsx/.test(comm)
          ? 'node'
          : 'other';
  return { kind, name: comm, role };
}

/** Every live descendant of `root` (and `root` itself), by scanning /proc's parent links. */
export function processTree(root: number): TreeProcess[] {
  const parents = new Map<number, { ppid: number; comm: string; ticks: number }>();
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat) parents.set(pid, stat);
  }
  const inTree = new Set<number>([root]);
  // Parents have lower pids only most of the time: repeat until nothing joins.
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, s] of parents) {
      if (!inTree.has(pid) && inTree.has(s.ppid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  return [...inTree].flatMap((pid) => {
    const s = parents.get(pid);
    if (!s) return [];
    const { kind, name, role: childRole } = kindOf(pid, s.comm);
    const role = pid === root ? 'main' : childRole;
    return [{ pid, ppid: s.ppid, kind, role, ...memoryKb(pid), cpuTicks: s.ticks, name }];
  });
}

export interface TreePeak {
  /** The highest sum of RSS over the whole tree seen in one sample. */
  totalKb: number;
  /** The highest sum of PSS (shared pages counted once), which is below the RSS sum. */
  totalPssKb: number;
  /** Per kind: its RSS in the sample of the total's peak, and its own highest sum. */
  byKind: Record<ProcessKind, { atPeakKb: number; peakKb: number }>;
  /** The most processes seen at once, by kind. */
  counts: Record<string, number>;
}

const emptyKinds = (): TreePeak['byKind'] => ({
  node: { atPeakKb: 0, peakKb: 0 },
  postgres: { atPeakKb: 0, peakKb: 0 },
  temporal: { atPeakKb: 0, peakKb: 0 },
  other: { atPeakKb: 0, peakKb: 0 },
});

/** The root process's own resident memory and its high-water mark, with the tree's peak. */
export interface PeakFigures {
  rssKb: number;
  hwmKb: number;
  tree: TreePeak;
}

/** Resident and peak resident memory of a process, from /proc; null once it is gone. */
export function readProcStatus(pid: number): { rssKb: number; hwmKb: number } | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1]);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** User plus system CPU time of one process so far, in clock ticks; null once it is gone. */
export function cpuTicksOf(pid: number): number | null {
  return readStat(pid)?.ticks ?? null;
}

/**
 * Follows the tree under `root` one {@link TreeTracker.sample} at a time: the peak of
 * its summed RSS with the breakdown by kind, the root's own RSS peak and high-water
 * mark, and every pid it has seen (to stop survivors). Synchronous /proc reads: it
 * runs in the sampler's own process (`tree-sampler-child.ts`), never in the load
 * generator's.
 */
export function treeTracker(root: number) {
  const empty = (): TreePeak => ({ totalKb: 0, totalPssKb: 0, byKind: emptyKinds(), counts: {} });
  let peak = empty();
  let rootPeak = { rssKb: 0, hwmKb: 0 };
  let latest: TreeProcess[] = [];
  const seen = new Set<number>();
  const sample = () => {
    const own = readProcStatus(root);
    if (own) rootPeak = { rssKb: Math.max(rootPeak.rssKb, own.rssKb), hwmKb: Math.max(rootPeak.hwmKb, own.hwmKb) }; // prettier-ignore
    try {
      latest = processTree(root);
    } catch {
      return latest;
    }
    const sums = emptyKinds();
    let total = 0;
    let pss = 0;
    const counts: Record<string, number> = {};
    for (const p of latest) {
      seen.add(p.pid);
      sums[p.kind].atPeakKb += p.rssKb;
      total += p.rssKb;
      pss += p.pssKb;
      const label = p.kind === 'other' ? p.name : roleLabel(p);
      counts[label] = (counts[label] ?? 0) + 1;
    }
    for (const k of Object.keys(sums) as ProcessKind[]) {
      sums[k].peakKb = Math.max(peak.byKind[k].peakKb, sums[k].atPeakKb);
      if (total <= peak.totalKb) sums[k].atPeakKb = peak.byKind[k].atPeakKb;
    }
    for (const [label, n] of Object.entries(peak.counts)) counts[label] = Math.max(counts[label] ?? 0, n); // prettier-ignore
    peak = { totalKb: Math.max(peak.totalKb, total), totalPssKb: Math.max(peak.totalPssKb, pss), byKind: sums, counts }; // prettier-ignore
    return latest;
  };
  return {
    sample,
    peak: (): PeakFigures => ({ ...rootPeak, tree: peak }),
    /** Starts a new peak (e.g. a measured run after seeding on the same process). */
    resetPeak: () => {
      peak = empty();
      rootPeak = { rssKb: 0, hwmKb: 0 };
    },
    seen: () => [...seen],
  };
}

/** CPU of each process between two snapshots, as % of one core, busiest first. */
export function cpuBetween(before: TreeProcess[], after: TreeProcess[], seconds: number) {
  const start = new Map(before.map((p) => [p.pid, p.cpuTicks]));
  return after
    .map((p) => ({
      pid: p.pid,
      kind: roleLabel(p),
      name: p.name,
      cpuPct: Math.round(((p.cpuTicks - (start.get(p.pid) ?? 0)) / CLOCK_TICKS / seconds) * 100),
    }))
    .sort((a, b) => b.cpuPct - a.cpuPct);
}

/** A process's kind, with its role when it is one of the product's Node processes. */
function roleLabel(p: TreeProcess): string {
  return p.kind === 'node' && p.role !== 'child' ? `node (${p.role})` : p.kind;
}

/** This process's own CPU since `from` (process.cpuUsage), as % of one core. */
export function ownCpuPct(from: NodeJS.CpuUsage, seconds: number): number {
  const used = process.cpuUsage(from);
  return Math.round(((used.user + used.system) / 1e6 / seconds) * 100);
}
