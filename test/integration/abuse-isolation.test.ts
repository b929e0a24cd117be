import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapLimit } from '../../core/concurrency/limits.ts';
import { abuseRequests } from '../support/fuzz-abuse.ts';
import {
  alteredMemories,
  problemIn,
  send,
  startBystander,
  type BystanderReport,
} from '../support/fuzz-checks.ts';
import { describeRequest, type FuzzRequest } from '../support/fuzz-wire.ts';
import { call, createUser, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

const ROUNDS = 2;
/** Between malformed requests: about 14 a second, below the default 20/s per user. */
const PACE_MS = 70;
const FLOOD = 600;
/** Rounds of save, search, context, list and read the other user makes under fire. */
const BYSTANDER_ROUNDS = 3;

interface AbuseRun {
  problems: string[];
  /** Malformed requests sent, and how many of them the rate limiter answered instead of validation. */
  hostile: { sent: number; limited: number; answers: Map<string, number> };
  kinds: Set<string>;
  floodStatuses: Map<number, number>;
  bystander: BystanderReport;
  altered: string[];
}

/**
 * One user sends every malformed kind of request (paced, so that they meet
 * validation rather than the rate limiter), then floods the API from one key,
 * while another user saves, searches, asks for
 * context. The API is the real one over PostgreSQL 18 with its indexing
 * worker on Temporal, so the other user's memories are also indexed meanwhile.
 */
describe("one user's hostile requests beside another user's ordinary ones", () => {
  let engine: TestEngine;
  let api: TestApi;
  let run: AbuseRun;
  let victimKey: string;

  before(async () => {
    engine = await createTestEngine('postgres', { EMBEDDER: 'hashing' });
    api = await startTestApi(engine);
    const victim = await createUser(api.url);
    victimKey = victim.api_key;
    run = await abuse(api.url, victimKey);
  });

  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  it('answers every hostile request with a 4xx that leaks nothing', (t) => {
    t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries([...run.hostile.answers].sort()))}`);
    assert.deepEqual(
      [...run.kinds].sort(),
      [
        '%ZZ path',
        'another user',
        'bad cursor',
        'deep metadata',
        'hostile tool call',
        'huge strings',
        'malformed body',
        'nul',
        'surrogates',
      ].sort(),
    );
    assert.equal(run.problems.length, 0, run.problems.slice(0, 12).join('\n'));
    const { sent, limited } = run.hostile;
    assert.ok(limited < sent * 0.1, `${limited} of ${sent} were rate limited before validation`);
  });

  it('meets a flood from one key with answers or 429s, never a 5xx', (t) => {
    t.diagnostic(`flood statuses: ${JSON.stringify(Object.fromEntries(run.floodStatuses))}`);
    const bad = [...run.floodStatuses.keys()].filter((s) => s !== 200 && s !== 429);
    assert.deepEqual(bad, []);
  });

  it('serves the other user throughout: every request succeeds, every memory is intact', () => {
    assert.deepEqual(run.bystander.failures, []);
    for (const kind of ['save', 'search', 'context', 'list', 'read']) {
      assert.ok(
        (run.bystander.counts[kind] ?? 0) >= BYSTANDER_ROUNDS,
        `the other user made ${kind} requests`,
      );
    }
    assert.deepEqual(run.altered, []);
  });

  it("indexes every one of the other user's memories despite the poison beside them", async () => {
    for (const id of run.bystander.saved.keys()) {
      await eventually(`the other user's memory ${id} indexed`, async () => {
        const res = await call(api.url, 'GET', `/v1/memories/${id}`, { key: victimKey });
        return res.body?.index_state === 'indexed';
      });
    }
  });
});

async function abuse(url: string, victimKey: string): Promise<AbuseRun> {
  const attacker = await createUser(url);
  const content = 'the other user: my bank is in Leuven';
  const saved = await call(url, 'POST', '/v1/memories', { key: victimKey, body: { content } });
  const victimMemory = saved.body.id as string;
  const hostile = abuseRequests(attacker.api_key, victimMemory);
  const problems: string[] = [];
  const floodStatuses = new Map<number, number>();
  const bystander = startBystander(url, victimKey);
  let sent = 0;
  let limited = 0;
  const answers = new Map<string, number>();

  const judge = async (request: FuzzRequest) => {
    const res = await send(url, request);
    sent++;
    if (res.status === 429) limited++;
    const answer = `${request.target} ${res.status}`;
    answers.set(answer, (answers.get(answer) ?? 0) + 1);
    const problem = problemIn(request, res, [victimMemory]);
    if (problem)
      problems.push(`[${request.target}] ${describeRequest(request)}\n    -> ${problem}`);
  };
  const flood: FuzzRequest = {
    target: 'flood',
    method: 'GET',
    path: '/v1/memories?limit=1',
    headers: { authorization: `Bearer ${attacker.api_key}` },
  };
  // Malformed requests first, paced below the per-user rate limit so they reach validation;
  // at least ROUNDS rounds, and on until the other user has done everything a few times.
  for (let round = 0; round < ROUNDS || bystander.rounds() < BYSTANDER_ROUNDS; round++) {
    for (const request of hostile) {
      await judge(request);
      await sleep(PACE_MS);
    }
  }
  // Then the flood, from the same user.
  await mapLimit(
    Array.from({ length: FLOOD }, () => flood),
    16,
    async (request) => {
      const { status } = await send(url, request);
      floodStatuses.set(status, (floodStatuses.get(status) ?? 0) + 1);
    },
  );
  const report = await bystander.stop();
  return {
    problems,
    hostile: { sent, limited, answers },
    kinds: new Set(hostile.map((r) => r.target)),
    floodStatuses,
    bystander: report,
    altered: await alteredMemories(
      url,
      victimKey,
      new Map([[victimMemory, content], ...report.saved]),
    ),
  };
}
