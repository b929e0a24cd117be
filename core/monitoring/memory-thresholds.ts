/**
 * Pure threshold logic of the memory monitor: which alert levels a reading
 * crosses, when a level re-arms, when caches are cleared and in what order,
 * and when heavy work is refused. No clocks, no I/O, so it is unit-tested
 * with an induced ramp of readings.
 */

export interface ThresholdPolicy {
  /** Alert levels in percent of the budget, each fired once when crossed upward. */
  alertLevels: readonly number[];
  /** Percent at or above which caches are cleared. */
  clearAt: number;
  /** Percent at or above which heavy work (uncached AI planning) is refused. */
  shedAt: number;
  /**
   * Hysteresis in percentage points: a fired level re-arms only once usage is
   * below `level - margin`; relief clears until usage is below `clearAt - margin`;
   * shedding stops below `shedAt - margin`.
   */
  margin: number;
}

export const DEFAULT_THRESHOLD_POLICY: ThresholdPolicy = {
  alertLevels: [60, 75, 85],
  clearAt: 80,
  shedAt: 90,
  margin: 5,
};

/** What the monitor remembers between readings. */
export interface ThresholdState {
  /** Alert levels that fired and have not re-armed yet. */
  fired: readonly number[];
  shedding: boolean;
}

export const INITIAL_THRESHOLD_STATE: ThresholdState = { fired: [], shedding: false };

export interface ThresholdDecision {
  state: ThresholdState;
  /** Levels crossed upward by this reading, lowest first: one alert each. */
  alerts: number[];
  /** Levels that re-armed with this reading (usage fell below `level - margin`). */
  rearmed: number[];
  /** True when caches should be cleared (usage at or above `clearAt`). */
  relieve: boolean;
  /** Shedding started (`true`) or stopped (`false`) with this reading; undefined when unchanged. */
  sheddingChanged?: boolean;
}

/** Checks a policy once, so a bad configuration fails at start-up, not on the first alert. */
export function validatePolicy(policy: ThresholdPolicy): ThresholdPolicy {
  const all = [...policy.alertLevels, policy.clearAt, policy.shedAt];
  if (all.some((p) => !Number.isFinite(p) || p <= 0 || p > 100)) {
    throw new RangeError(
      `memory thresholds must be percentages in (0, 100], got ${all.join(', ')}`,
    );
  }
  if (!(policy.margin >= 0 && policy.margin < 100)) {
    throw new RangeError(`memory threshold margin must be in [0, 100), got ${policy.margin}`);
  }
  return { ...policy, alertLevels: [...new Set(policy.alertLevels)].sort((a, b) => a - b) };
}

/**
 * Evaluates one reading (usage in percent of the budget) against the policy.
 * A level fires once when usage reaches it and re-arms only after usage falls
 * below `level - margin`, so a reading that oscillates around a level within
 * the margin fires nothing more. A jump past several levels fires each once.
 */
export function evaluateThresholds(
  state: ThresholdState,
  usagePct: number,
  policy: ThresholdPolicy = DEFAULT_THRESHOLD_POLICY,
): ThresholdDecision {
  const fired = new Set(state.fired);
  const alerts: number[] = [];
  const rearmed: number[] = [];
  for (const level of policy.alertLevels) {
    if (fired.has(level)) {
      if (usagePct < level - policy.margin) {
        fired.delete(level);
        rearmed.push(level);
      }
    } else if (usagePct >= level) {
      fired.add(level);
      alerts.push(level);
    }
  }
  const shedding = state.shedding
    ? usagePct >= policy.shedAt - policy.margin
    : usagePct >= policy.shedAt;
  return {
    state: { fired: [...fired].sort((a, b) => a - b), shedding },
    alerts,
    rearmed,
    relieve: usagePct >= policy.clearAt,
    ...(shedding !== state.shedding ? { sheddingChanged: shedding } : {}),
  };
}

/** A cache the monitor may empty, with what it holds now. */
export interface ReliefCandidate {
  name: string;
  bytes: number;
}

/**
 * Which caches to clear, in the order given (least valuable first: search
 * results before plans, which each cost a model call), stopping as soon as
 * the projected usage (used minus what the cleared caches held) is below
 * `clearAt - margin`. Empty caches are skipped.
 */
export function planRelief(
  usedBytes: number,
  budgetBytes: number,
  candidates: readonly ReliefCandidate[],
  policy: ThresholdPolicy = DEFAULT_THRESHOLD_POLICY,
): string[] {
  const target = ((policy.clearAt - policy.margin) / 100) * budgetBytes;
  const chosen: string[] = [];
  let projected = usedBytes;
  for (const candidate of candidates) {
    if (projected < target) break;
    if (candidate.bytes <= 0) continue;
    chosen.push(candidate.name);
    projected -= candidate.bytes;
  }
  return chosen;
}
