import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RECENT_WEIGHT, strategyPool, type StrategyDeps } from '../../core/context/strategies.ts';
import { FUSION_WEIGHTS, RRF_K } from '../../core/retrieval/fusion.ts';
import {
  CONTEXT_LIMIT,
  retrieveContext,
  type ContextRetrieved,
} from '../../bench/quality/tune/context-retrieved.ts';
import { contextReport } from '../../bench/quality/tune/context-report.ts';
import {
  contextScorer,
  contextTop,
  crossValidateContext,
  hasContext,
  RECENT_GRID,
  scoreContext,
} from '../../bench/quality/tune/context-sweep.ts';
import type { RetrievedQuestion, RetrievedSet } from '../../bench/quality/tune/retrieved.ts';
import { crossValidate, type FusionParams } from '../../bench/quality/tune/sweep.ts';

const PARAMS: FusionParams = {
  k: 0.5,
  weights: { vector: 1, lexical: 0.85, graph: 0, time: 0 },
  timePool: 75,
  spanPool: 0,
};
/** What the searches find, best first: one more than a context holds. */
const found = Array.from({ length: CONTEXT_LIMIT + 1 }, (_, i) => `s${i + 1}`);
/** The last found memory a context holds. */
const lastKept = `s${CONTEXT_LIMIT}`;

/**
 * A conversation's question whose searches find `found` (best first) and
 * whose latest memories are `recent`; its evidence is the turn of `answer`.
 */
function question(conversation: string, answer: string): RetrievedQuestion {
  const context: ContextRetrieved = {
    vector: [found],
    lexical: [[]],
    graph: [],
    recent: ['latest'],
    inUse: [],
  };
  return {
    conversation,
    category: 4,
    question: `What did ${conversation} say?`,
    evidence: [`${conversation}:${answer}`],
    vector: found,
    lexical: [],
    ofTheTime: [],
    graph: [],
    context,
    asked: { asksWhen: false, spans: [], yearless: [] },
  };
}

/** A question with no lists of its own (for a context retrieved by the product). */
const question_ = (text: string): RetrievedQuestion => ({ ...question('a', 's1'), question: text });

function setOf(questions: RetrievedQuestion[]): RetrievedSet {
  const memories: RetrievedSet['memories'] = {};
  for (const q of questions) {
    const own: RetrievedSet['memories'][string] = {};
    for (const id of [...found, 'latest']) {
      const time = { at: { from: 0, to: 1 }, mentions: [] };
      own[id] = { diaIds: [`${q.conversation}:${id}`], content: id, createdAt: '', occurredAt: null, time }; // prettier-ignore
    }
    memories[q.conversation] = own;
  }
  return { embedder: 'test', askedAt: '2026-12-06T00:00:00.000Z', questions, memories };
}

describe("the tuning's model of /v1/context", () => {
  it('returns the CONTEXT_LIMIT best of the fused lists, a latest memory among them only when its weight lets it in', () => {
    const q = question('a', 's1');
    const set = setOf([q]);
    assert.deepEqual(contextTop(set, q, PARAMS, 0), found.slice(0, CONTEXT_LIMIT));
    const weighted = contextTop(set, q, PARAMS, 0.3);
    assert.equal(weighted.length, CONTEXT_LIMIT);
    assert.ok(weighted.includes('latest'), 'at 0.3 the latest memory outranks the last found kept');
    assert.ok(!weighted.includes(lastKept));
  });

  it('says which sets carry the context lists, so sets saved before are not swept for it', () => {
    const q = question('a', 's1');
    const older = { ...q, context: undefined };
    assert.equal(hasContext(setOf([q])), true);
    assert.equal(hasContext(setOf([older])), false);
  });

  it('chooses the recent weight in each fold on the other conversations only, and scores it on the held-out one', () => {
    // In a, the answer is the latest memory (recent helps); in b, the last found kept (recent hurts).
    const questions = [question('a', 'latest'), question('b', lastKept)];
    const set = setOf(questions);
    const grid = [0, 0.3];
    const scorer = contextScorer(set, [PARAMS], grid);
    const folds = crossValidate(set, [scorer(0)[0]!], [0]);
    const context = crossValidateContext(set, folds, scorer, grid);
    const byHeldOut = Object.fromEntries(context.map((f) => [f.heldOut, f]));
    assert.equal(byHeldOut.a!.recentWeight, 0, 'chosen on b, where recency pushes the answer out');
    assert.deepEqual(byHeldOut.a!.heldOutAt10, [0], 'which costs a its answer');
    assert.equal(byHeldOut.b!.recentWeight, 0.3, 'chosen on a, where the answer is the latest');
    assert.deepEqual(byHeldOut.b!.heldOutAt10, [0]);
  });

  it('ships the weight in use unless choosing one per fold recalled more on held-out conversations', () => {
    const set = setOf([question('a', 'latest'), question('b', lastKept)]);
    const scorer = contextScorer(set, [PARAMS], RECENT_GRID);
    const folds = crossValidate(set, [scorer(0)[0]!], [0]);
    const report = (recentWeight: number) =>
      contextReport({ set, points: [PARAMS], folds, final: 0, scorer, inUse: { params: PARAMS, recentWeight, scores: scoreContext(set, PARAMS, recentWeight) } }); // prettier-ignore
    // Each fold's choice fails its held-out conversation; either weight held keeps one answer.
    for (const inUse of [0, 0.3]) {
      const { crossValidated, chosen } = report(inUse);
      assert.equal(crossValidated.chosen.overall.at10, 0);
      assert.equal(crossValidated.fixed.recall.overall.at10, 0.5);
      assert.equal(chosen.toShip, inUse);
    }
  });
});

/** Retrievers over fixed answers: the vector search ranks by the query's length, full text by its words. */
function fakeDeps(): StrategyDeps {
  const ids = (prefix: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i + from}`, score: 1 })); // prettier-ignore
  const search = <H>(answer: (q: never) => H[]) => ({ search: async (q: never) => answer(q), stats: () => ({ queries: 0, roundTrips: 0, deduplicated: 0 }) }); // prettier-ignore
  const embedder = { id: 'fake', dimension: 1, embed: async (texts: readonly string[]) => texts.map((t) => [t.length]) }; // prettier-ignore
  const vectors = search((q: { vector: number[]; limit: number }) => ids('m', q.limit, q.vector[0]! % 7)); // prettier-ignore
  return {
    space: () => ({ id: 'fake', embedder, vectors }),
    text: search((q: { query: string; limit: number }) => ids('m', q.limit, q.query.length % 5).reverse()), // prettier-ignore
    graph: { entityNames: async () => [], findMemories: async () => [] } as never,
    store: { recentMemories: async () => [{ id: 'latest' }], getMemories: async () => [] } as never,
  };
}

describe('what the tuning keeps of /v1/context', () => {
  it("keeps each plan query's lists and the latest memories, and its model fuses them into the product's own hits", async () => {
    const question = 'What did Caroline paint for the art show downtown?';
    const context = await retrieveContext(fakeDeps(), 'u1', question);
    assert.equal(context.vector.length, 2, 'the message, then its content words');
    assert.ok(
      context.vector.every((list) => list.length === strategyPool(CONTEXT_LIMIT)),
      'a pool of twice the limit',
    );
    assert.deepEqual(context.recent, ['latest']);
    assert.equal(context.inUse.length, CONTEXT_LIMIT);
    const q = { ...question_(question), context };
    const inUse: FusionParams = { k: RRF_K, weights: { ...FUSION_WEIGHTS, time: 0 }, timePool: 75, spanPool: 0 }; // prettier-ignore
    assert.deepEqual(contextTop(setOf([q]), q, inUse, RECENT_WEIGHT), context.inUse);
  });
});
