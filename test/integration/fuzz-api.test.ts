import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mapLimit } from '../../core/concurrency/limits.ts';
import {
  alteredMemories,
  listTools,
  problemIn,
  send,
  startBystander,
  type BystanderReport,
} from '../support/fuzz-checks.ts';
import { fuzzRequests, fuzzSeed, nthRequest } from '../support/fuzz-requests.ts';
import { describeRequest } from '../support/fuzz-wire.ts';
import { ADMIN_KEY, call, createUser, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

/** Requests per run: enough to reach every route often, within about a minute on two cores. */
const REQUESTS = 3000;
const IN_FLIGHT = 8;
/**
 * Users the fuzzer rotates through: the rate limit is per user (20/s, burst 60
 * by default), so spreading the load leaves most requests to reach validation.
 */
const FUZZ_USERS = 16;
const FIXED_SEED = 15_2026;
/** Rounds of save, search, context, list and read the other user makes under fire, at least. */
const BYSTANDER_ROUNDS = 3;

interface FuzzRun {
  seed: number;
  problems: { kind: string; text: string }[];
  hits: Map<string, number>;
  /** Answers per target and status, such as `POST /v1/memories 201`. */
  statuses: Map<string, number>;
  targets: string[];
  rateLimited: number;
  dangling: string[];
  bystander: BystanderReport;
  altered: string[];
}

/**
 * The real API over PostgreSQL 18 (hashing embedder and no indexing worker,
 * so the run's time goes to the edge), fuzzed from its own `/openapi.json`
 * and MCP `tools/list`, while a second user goes about their business.
 * The seed is fixed in CI and random elsewhere; replay a failure with `FUZZ_SEED=<seed>` (printed).
 */
describe('fuzzing every /v1 route and /mcp tool from the published schemas', () => {
  let engine: TestEngine;
  let api: TestApi;
  let run: FuzzRun;

  before(async () => {
    engine = await createTestEngine('postgres', { EMBEDDER: 'hashing' });
    api = await startTestApi(engine, { worker: false });
    run = await fuzz(api.url);
  });

  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  it(`answers ${REQUESTS} generated requests with no 5xx, no internal tool error and no leak`, (t) => {
    t.diagnostic(`FUZZ_SEED=${run.seed}; ${run.rateLimited} answered 429`);
    t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries([...run.statuses].sort()))}`);
    const shown = firstOfEachKind(run.problems).join('\n');
    assert.equal(
      run.problems.length,
      0,
      `FUZZ_SEED=${run.seed}: ${run.problems.length} bad answers, first ones:\n${shown}`,
    );
  });

  it('serves another user without a single failure while the fuzzing runs', () => {
    assert.deepEqual(run.bystander.failures, []);
    for (const kind of ['save', 'search', 'context', 'list']) {
      assert.ok(
        (run.bystander.counts[kind] ?? 0) >= BYSTANDER_ROUNDS,
        `bystander made ${kind} requests`,
      );
    }
    assert.deepEqual(run.altered, [], "the other user's memories are as they saved them");
  });

  it('reaches every route and tool, mostly past the rate limiter', () => {
    const missed = run.targets.filter((t) => (run.hits.get(t) ?? 0) < 20);
    assert.deepEqual(missed, [], 'every route and tool got at least 20 requests');
    assert.ok(
      run.rateLimited < REQUESTS * 0.1,
      `${run.rateLimited} of ${REQUESTS} requests were rate limited before validation`,
    );
  });

  it('publishes schemas whose $refs all resolve in /openapi.json', () => {
    assert.deepEqual(run.dangling, []);
  });
});

/** The first problem of each kind (target and answer), so that one bug does not hide another. */
function firstOfEachKind(problems: readonly { kind: string; text: string }[]): string[] {
  const first = new Map<string, { text: string; count: number }>();
  for (const { kind, text } of problems) {
    const seen = first.get(kind);
    if (seen) seen.count++;
    else first.set(kind, { text, count: 1 });
  }
  return [...first].map(([kind, { text, count }]) => `${count} × ${kind}, e.g. ${text}`);
}

async function fuzz(url: string): Promise<FuzzRun> {
  const seed = fuzzSeed(FIXED_SEED);
  const fuzzers = await Promise.all(Array.from({ length: FUZZ_USERS }, () => createUser(url)));
  const fuzzer = fuzzers[0]!;
  const other = await createUser(url);
  const saveAs = async (key: string, content: string) =>
    (await call(url, 'POST', '/v1/memories', { key, body: { content } })).body.id as string;
  const ownIds = [await saveAs(fuzzer.api_key, 'fuzzer memory one')];
  const theirs = new Map<string, string>();
  for (const content of ['other user: my sister is Ines', 'other user: I am allergic to nuts']) {
    theirs.set(await saveAs(other.api_key, content), content);
  }

  const doc = (await call(url, 'GET', '/openapi.json')).body;
  const tools = await listTools(url, fuzzer.api_key);
  const creds = { userKeys: fuzzers.map((f) => f.api_key), adminKey: ADMIN_KEY };
  const { requests, targets, values } = fuzzRequests(doc, tools, creds, [
    ...ownIds,
    ...theirs.keys(),
  ]);

  const problems: FuzzRun['problems'] = [];
  const hits = new Map<string, number>();
  const statuses = new Map<string, number>();
  let rateLimited = 0;
  const bystander = startBystander(url, other.api_key);
  const fuzzOne = async (i: number) => {
    const request = nthRequest(requests, seed, i);
    const res = await send(url, request);
    hits.set(request.target, (hits.get(request.target) ?? 0) + 1);
    const answer = `${request.target} ${res.status}`;
    statuses.set(answer, (statuses.get(answer) ?? 0) + 1);
    if (res.status === 429) rateLimited++;
    const problem = problemIn(request, res, [...theirs.keys()]);
    if (problem) {
      const kind = `${request.target} -> ${problem.slice(0, problem.indexOf(':'))}`;
      problems.push({ kind, text: `#${i} ${describeRequest(request)}\n    -> ${problem}` });
    }
  };
  const indexes = Array.from({ length: REQUESTS }, (_, i) => i);
  await mapLimit(indexes, IN_FLIGHT, fuzzOne);
  // On a fast machine the other user may not have done everything a few times yet.
  for (let i = REQUESTS; bystander.rounds() < BYSTANDER_ROUNDS; i++) await fuzzOne(i);
  const report = await bystander.stop();
  const expected = new Map([...theirs, ...report.saved]);
  return {
    seed,
    problems,
    hits,
    statuses,
    targets,
    rateLimited,
    dangling: [...values.dangling],
    bystander: report,
    altered: await alteredMemories(url, other.api_key, expected),
  };
}
