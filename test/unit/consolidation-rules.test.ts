import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  expiresAt,
  isExpired,
  mergeChanges,
  planMerges,
  planRetirements,
  retirementChange,
  slotOf,
  supersededIds,
  type Neighbour,
} from '../../core/consolidation/rules.ts';
import type { Memory } from '../../core/ports/relational-store.ts';

const USER = '00000000-0000-4000-8000-000000000001';
const NOW = new Date('2026-11-26T02:00:00Z');
let seq = 0;

/** A memory saved `minutesAgo` before NOW, indexed and active unless told otherwise. */
function memory(overrides: Partial<Memory> & { minutesAgo?: number } = {}): Memory {
  seq++;
  const { minutesAgo = 100 - seq, ...rest } = overrides;
  const createdAt = new Date(NOW.getTime() - minutesAgo * 60_000);
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    userId: USER,
    content: `memory ${seq}`,
    tags: [],
    metadata: {},
    state: 'active',
    indexState: 'indexed',
    revision: 1,
    createdAt,
    updatedAt: createdAt,
    occurredAt: createdAt,
    expiresAt: null,
    ...rest,
  };
}

const byId = (...memories: Memory[]) => new Map(memories.map((m) => [m.id, m]));
const near = (...pairs: [Memory, number][]): Neighbour[] =>
  pairs.map(([m, score]) => ({ id: m.id, score }));

describe('consolidation rules: outdated memories', () => {
  it('reads expires_at as an ISO date or date-time and ignores anything else', () => {
    assert.equal(
      expiresAt({ metadata: { expires_at: '2026-01-01' } })?.toISOString(),
      '2026-01-01T00:00:00.000Z',
    );
    assert.equal(expiresAt({ metadata: { expires_at: 'next tuesday' } }), null);
    assert.equal(expiresAt({ metadata: { expires_at: 42 } }), null);
    assert.equal(isExpired({ metadata: { expires_at: NOW.toISOString() } }, NOW), true);
    assert.equal(isExpired({ metadata: { expires_at: '2027-01-01' } }, NOW), false);
    assert.equal(isExpired({ metadata: {} }, NOW), false);
  });

  it('puts a memory in a slot only when it has exactly one key: tag', () => {
    assert.equal(slotOf({ tags: ['home', 'key:city'] }), 'key:city');
    assert.equal(slotOf({ tags: ['key:city', 'key:job'] }), null);
    assert.equal(slotOf({ tags: ['key:'] }), null);
    assert.equal(slotOf({ tags: [] }), null);
  });

  it('reads supersedes as one id or a list, never the memory itself', () => {
    const m = memory();
    assert.deepEqual(supersededIds({ id: m.id, metadata: { supersedes: 'A' } }), ['a']);
    assert.deepEqual(supersededIds({ id: m.id, metadata: { supersedes: ['a', 'b', 3, 'a'] } }), [
      'a',
      'b',
    ]);
    assert.deepEqual(supersededIds({ id: m.id, metadata: { supersedes: m.id } }), []);
  });

  it('retires expired memories, older memories of a slot, and memories a newer one supersedes', () => {
    const expired = memory({ metadata: { expires_at: '2026-11-01' } });
    const future = memory({ metadata: { expires_at: '2027-11-01' } });
    const oldCoffee = memory({ tags: ['key:coffee'], minutesAgo: 50 });
    const newCoffee = memory({ tags: ['key:coffee'], minutesAgo: 10 });
    const oldPhone = memory({ minutesAgo: 40 });
    const newPhone = memory({ minutesAgo: 5, metadata: { supersedes: oldPhone.id } });
    const retirements = planRetirements({
      page: [expired, future, oldCoffee, newCoffee, newPhone],
      now: NOW,
      newestInSlot: new Map([['key:coffee', newCoffee]]),
      superseded: [oldPhone],
    });
    assert.deepEqual(
      retirements.map((r) => [r.memory.id, r.reason, r.by]),
      [
        [expired.id, 'expired', undefined],
        [oldCoffee.id, 'superseded', newCoffee.id],
        [oldPhone.id, 'superseded', newPhone.id],
      ],
    );
  });

  it('lets no older memory supersede a newer one, and no expired one supersede at all', () => {
    const newer = memory({ minutesAgo: 1 });
    const older = memory({ minutesAgo: 90, metadata: { supersedes: newer.id } });
    const target = memory({ minutesAgo: 80 });
    const expiredSuperseder = memory({
      minutesAgo: 2,
      metadata: { supersedes: target.id, expires_at: '2020-01-01' },
    });
    const retirements = planRetirements({
      page: [older, expiredSuperseder],
      now: NOW,
      newestInSlot: new Map(),
      superseded: [newer, target],
    });
    assert.deepEqual(
      retirements.map((r) => [r.memory.id, r.reason]),
      [[expiredSuperseder.id, 'expired']],
    );
  });

  it('archives a retired memory with why, when and by what', () => {
    const old = memory({ revision: 3 });
    assert.deepEqual(retirementChange({ memory: old, reason: 'superseded', by: 'x' }, NOW), {
      memoryId: old.id,
      revision: 3,
      archive: true,
      metadata: { retired_reason: 'superseded', retired_at: NOW.toISOString(), superseded_by: 'x' },
    });
  });
});

describe('consolidation rules: near-duplicates', () => {
  it('merges neighbours at or above the threshold into the oldest, with the union of tags', () => {
    const a = memory({ minutesAgo: 30, tags: ['home'] });
    const b = memory({ minutesAgo: 60, tags: ['travel', 'home'] });
    const c = memory({ minutesAgo: 10, tags: ['lisbon'] });
    const far = memory({ minutesAgo: 5 });
    const plans = planMerges({
      sources: [a, b, c, far],
      neighbours: new Map([[a.id, near([b, 0.97], [c, 0.95], [far, 0.94])]]),
      memories: byId(a, b, c, far),
      threshold: 0.95,
      now: NOW,
    });
    assert.equal(plans.length, 1);
    assert.equal(plans[0]!.survivor.id, b.id, 'the oldest survives');
    assert.deepEqual(
      plans[0]!.duplicates.map((d) => d.id),
      [a.id, c.id],
    );
    assert.deepEqual(plans[0]!.tags, ['travel', 'home', 'lisbon']);
  });

  it('never chains: A≈B and B≈C do not fold C into A through B', () => {
    const a = memory();
    const b = memory();
    const c = memory();
    const plans = planMerges({
      sources: [a, b, c],
      neighbours: new Map([
        [a.id, near([b, 0.96])],
        [b.id, near([a, 0.96], [c, 0.96])],
        [c.id, near([b, 0.96])],
      ]),
      memories: byId(a, b, c),
      threshold: 0.95,
      now: NOW,
    });
    assert.deepEqual(
      plans.map((p) => [p.survivor.id, p.duplicates.map((d) => d.id)]),
      [[a.id, [b.id]]],
    );
  });

  it('leaves out memories that are retired, unindexed, archived, expired or in a slot', () => {
    const source = memory();
    const others = [
      memory({ indexState: 'pending' }),
      memory({ state: 'archived' }),
      memory({ metadata: { expires_at: '2020-01-01' } }),
      memory({ tags: ['key:coffee'] }),
      memory(),
    ];
    const retired = others[4]!;
    const plans = planMerges({
      sources: [source],
      neighbours: new Map([[source.id, near(...others.map((m) => [m, 0.99] as [Memory, number]))]]),
      memories: byId(source, ...others),
      threshold: 0.95,
      now: NOW,
      exclude: new Set([retired.id]),
    });
    assert.deepEqual(plans, []);
  });

  it('caps the merged tags at the limit, the survivor’s own first', () => {
    const a = memory({ minutesAgo: 90, tags: ['a1', 'a2'] });
    const b = memory({ minutesAgo: 10, tags: ['b1', 'b2', 'b3'] });
    const [plan] = planMerges({
      sources: [a],
      neighbours: new Map([[a.id, near([b, 1])]]),
      memories: byId(a, b),
      threshold: 0.95,
      now: NOW,
      maxTags: 3,
    });
    assert.deepEqual(plan?.tags, ['a1', 'a2', 'b1']);
  });

  it('records merged_from on the survivor (kept across runs) and merged_into on each duplicate', () => {
    const survivor = memory({ revision: 2, metadata: { merged_from: ['earlier'] } });
    const dup = memory();
    const changes = mergeChanges({ survivor, duplicates: [dup], tags: ['t'] }, NOW);
    assert.deepEqual(changes, [
      {
        memoryId: survivor.id,
        revision: 2,
        tags: ['t'],
        metadata: { merged_from: ['earlier', dup.id] },
      },
      {
        memoryId: dup.id,
        revision: 1,
        archive: true,
        metadata: {
          retired_reason: 'duplicate',
          merged_into: survivor.id,
          retired_at: NOW.toISOString(),
        },
      },
    ]);
  });
});
