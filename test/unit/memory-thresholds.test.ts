import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_THRESHOLD_POLICY,
  evaluateThresholds,
  INITIAL_THRESHOLD_STATE,
  planRelief,
  validatePolicy,
  type ThresholdDecision,
} from '../../core/monitoring/memory-thresholds.ts';

/** Feeds a ramp of readings (percent of budget) through the thresholds, collecting decisions. */
function ramp(readings: number[]): { pct: number; decision: ThresholdDecision }[] {
  let state = INITIAL_THRESHOLD_STATE;
  return readings.map((pct) => {
    const decision = evaluateThresholds(state, pct);
    state = decision.state;
    return { pct, decision };
  });
}

const alertsOf = (steps: ReturnType<typeof ramp>) =>
  steps.flatMap((s) => s.decision.alerts.map((level) => `${s.pct}:${level}`));

describe('memory thresholds', () => {
  it('fires 60, 75 and 85 once each on the way up a ramp from 50 to 95 %', () => {
    const steps = ramp([50, 55, 60, 65, 70, 75, 80, 85, 90, 95]);
    assert.deepEqual(alertsOf(steps), ['60:60', '75:75', '85:85']);
  });

  it('fires every level crossed when usage jumps past several at once', () => {
    const steps = ramp([50, 95]);
    assert.deepEqual(steps[1]!.decision.alerts, [60, 75, 85]);
  });

  it('raises no alert storm while usage oscillates within the margin of a level', () => {
    const steps = ramp([50, 61, 58, 62, 56, 60, 59, 61, 55.1, 64]);
    assert.deepEqual(alertsOf(steps), ['61:60']);
    assert.ok(steps.every((s) => s.decision.rearmed.length === 0));
  });

  it('re-arms a level only after usage falls below it minus the margin, then fires again', () => {
    const steps = ramp([50, 95, 82, 71, 69, 54, 50, 80]);
    assert.deepEqual(alertsOf(steps), ['95:60', '95:75', '95:85', '80:60', '80:75']);
    const rearmed = steps.flatMap((s) => s.decision.rearmed.map((l) => `${s.pct}:${l}`));
    // 85 re-arms below 80, 75 below 70, 60 below 55: 82 and 71 re-arm nothing new.
    assert.deepEqual(rearmed, ['71:85', '69:75', '54:60']);
    // 80 % again: 60 and 75 were re-armed and fire; 85 is not reached.
    assert.deepEqual(steps.at(-1)!.decision.alerts, [60, 75]);
  });

  it('asks for relief at 80 % and above, not below', () => {
    const steps = ramp([50, 79.9, 80, 81, 95, 79]);
    assert.deepEqual(
      steps.map((s) => s.decision.relieve),
      [false, false, true, true, true, false],
    );
  });

  it('sheds heavy work from 90 % until usage falls below 85 %', () => {
    const steps = ramp([50, 89.9, 90, 95, 88, 86, 84.9, 89, 91]);
    assert.deepEqual(
      steps.map((s) => s.decision.state.shedding),
      [false, false, true, true, true, true, false, false, true],
    );
    assert.deepEqual(
      steps.map((s) => s.decision.sheddingChanged),
      [undefined, undefined, true, undefined, undefined, undefined, false, undefined, true],
    );
  });

  it('refuses a policy whose levels are not percentages', () => {
    assert.throws(
      () => validatePolicy({ ...DEFAULT_THRESHOLD_POLICY, alertLevels: [60, 120] }),
      /percentages/,
    );
    assert.throws(() => validatePolicy({ ...DEFAULT_THRESHOLD_POLICY, margin: -1 }), /margin/);
  });
});

describe('memory relief plan', () => {
  const MB = 1024 * 1024;
  const budget = 1000 * MB;

  it('clears the search cache first and stops once below 75 % of the budget', () => {
    const order = planRelief(
      810 * MB,
      budget,
      [
        { name: 'search', bytes: 100 * MB },
        { name: 'plan', bytes: 200 * MB },
      ],
      DEFAULT_THRESHOLD_POLICY,
    );
    assert.deepEqual(order, ['search']);
  });

  it('goes on to the plan cache when clearing search results is not enough', () => {
    const order = planRelief(810 * MB, budget, [
      { name: 'search', bytes: 20 * MB },
      { name: 'plan', bytes: 200 * MB },
    ]);
    assert.deepEqual(order, ['search', 'plan']);
  });

  it('skips empty caches and clears nothing when already below the target', () => {
    assert.deepEqual(
      planRelief(810 * MB, budget, [
        { name: 'search', bytes: 0 },
        { name: 'plan', bytes: 5 * MB },
      ]),
      ['plan'],
    );
    assert.deepEqual(planRelief(700 * MB, budget, [{ name: 'search', bytes: 50 * MB }]), []);
  });
});
