import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyse } from '../../bench/context/analyze.ts';
import { pickMessage, type Recent, type Sample } from '../../bench/context/drive.ts';
import { busiestUserBound } from '../../bench/context/limiter.ts';
import { parseArgs } from '../../bench/context/options.ts';
import { SessionUsers } from '../../bench/context/session-users.ts';
import type { SeededUser } from '../../bench/context/seed.ts';
import { seededRandom } from '../../core/util/seeded-random.ts';
import { makePersona } from '../../loadtest/context-corpus.ts';

describe('context bench: chat sessions hold one user at a time', () => {
  it('never gives a user to two sessions, and says so when every user is held', () => {
    const random = seededRandom(7);
    const users = new SessionUsers(['a', 'b', 'c'], 1, random);
    const taken = [users.take(random), users.take(random), users.take(random)];
    assert.deepEqual([...taken].sort(), ['a', 'b', 'c']);
    assert.equal(users.take(random), undefined);
    users.release('b');
    assert.equal(users.take(random), 'b');
  });

  it('keeps the Zipf skew: the most active users are held far more often than the rest', () => {
    const random = seededRandom(3);
    const names = Array.from({ length: 100 }, (_, i) => `u${i}`);
    const users = new SessionUsers(names, 1, random);
    const held = Array.from({ length: 10 }, () => users.take(random));
    const counts = new Map<string, number>();
    // Sessions open new conversations one after another, each handing its user back first.
    for (let i = 0; i < 20_000; i++) {
      const slot = i % held.length;
      const next = users.switch(held[slot], random)!;
      held[slot] = next;
      counts.set(next, (counts.get(next) ?? 0) + 1);
      assert.equal(new Set(held).size, held.length, 'no user is held twice');
    }
    const sorted = [...counts.values()].sort((x, y) => y - x);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    assert.ok(sorted[0]! > 5 * median, `top ${sorted[0]} vs median ${median}`);
  });

  it("bounds the busiest user's rate by one session's, plus their share of the background saves", () => {
    const o = parseArgs(['--users', '200', '--sessions', '100', '--save-rate', '50']);
    assert.equal(busiestUserBound(o, 200), 2.3);
    assert.equal(busiestUserBound({ ...o, sessions: 10, saveRate: 0 }, 200), 2);
  });

  it('refuses more sessions than users', () => {
    assert.throws(() => parseArgs(['--users', '5', '--sessions', '6']), /must not exceed --users/);
  });
});

describe('context bench: why plans fell back and what repeats found', () => {
  const user: SeededUser = {
    id: 'u1',
    key: 'k',
    persona: makePersona(seededRandom(2)),
    memories: 0,
    indexed: true,
  };

  it("gives a repeat the very message its first occurrence was, so that occurrence's plan source reaches it", () => {
    const recent: Recent = new Map();
    // Draws: no repeat yet, then a new message's kind and words; then a repeat of it.
    const first = pickMessage(user, recent, seededRandom(1));
    assert.equal(first.repeat, false);
    first.entry.firstSource = 'model';
    const draws = [0, 0];
    const again = pickMessage(user, recent, () => draws.shift() ?? 0);
    assert.equal(again.repeat, true);
    assert.equal(again.entry.firstSource, 'model');
  });

  it('counts heuristic plans by reason and repeats served from the plan cache, overall and after a model plan', () => {
    const base = { at: 0, ms: 10, ok: true, status: 200, user: 'u1' } as const;
    const complex = (extra: Partial<Sample>): Sample => ({
      ...base,
      kind: 'complex',
      repeat: false,
      ...extra,
    });
    const samples: Sample[] = [
      complex({ planSource: 'model', cachePlan: 'miss' }),
      complex({ planSource: 'heuristic', planFallback: 'rate_limited', cachePlan: 'miss' }),
      complex({ planSource: 'heuristic', planFallback: 'rate_limited', cachePlan: 'miss' }),
      complex({ planSource: 'heuristic', planFallback: 'timeout', cachePlan: 'miss' }),
      complex({ repeat: true, firstSource: 'model', planSource: 'cache', cachePlan: 'l1' }),
      complex({ repeat: true, firstSource: 'model', planSource: 'model', cachePlan: 'miss' }),
      complex({ repeat: true, firstSource: 'heuristic', planSource: 'cache', cachePlan: 'l3' }),
      complex({
        repeat: true,
        firstSource: 'heuristic',
        planSource: 'heuristic',
        planFallback: 'rate_limited',
        cachePlan: 'miss',
      }),
      { ...base, kind: 'simple', repeat: false, planSource: 'classifier', cachePlan: 'off' },
    ];
    const a = analyse(samples, 1);
    assert.deepEqual(a.overall.planFallbacks, { rate_limited: 3, timeout: 1 });
    assert.deepEqual(
      { ...a.complexRepeats, missedServedAs: undefined },
      {
        count: 4,
        fromCache: 2,
        hitRate: 0.5,
        firstSources: { model: 2, heuristic: 2 },
        afterModel: 2,
        afterModelFromCache: 1,
        afterModelHitRate: 0.5,
        afterHeuristic: 2,
        afterHeuristicFromCache: 1,
        missedServedAs: undefined,
      },
    );
    assert.deepEqual(a.complexRepeats.missedServedAs, { model: 1, 'heuristic (rate_limited)': 1 });
  });

  it("splits a class's wait into the product's own stages and the time outside them", () => {
    const simple = (ms: number, total: number): Sample => ({
      at: 0,
      kind: 'simple',
      repeat: false,
      ms,
      ok: true,
      status: 200,
      server: { classify: 0.5, retrieve: total - 1, assemble: 0.5, total },
    });
    const samples = [simple(30, 10), simple(50, 20), { ...simple(90, 5), server: undefined }];
    const t = analyse(samples, 1).serverTime.simple!;
    assert.equal(t.count, 2, 'an answer without timings is not counted');
    assert.deepEqual(t.total, { p50: 10, p95: 20 });
    assert.deepEqual(t.outside, { p50: 20, p95: 30 });
    assert.deepEqual(t.plan, { p50: 0, p95: 0 }, 'a stage the answer did not time counts as 0');
  });
});
