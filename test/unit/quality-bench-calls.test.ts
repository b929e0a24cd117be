import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timed, type Tally } from '../../bench/quality/questions.ts';
import { MemoryEngineError } from '../../client/src/index.ts';

const failure = (code: string) =>
  new MemoryEngineError({ code, message: code, status: 503, requestId: null });

/** A call that fails with `codes` in turn, then answers. */
function failingFirst(codes: string[]) {
  let calls = 0;
  return {
    call: () => {
      const code = codes[calls++];
      return code ? Promise.reject(failure(code)) : Promise.resolve({ degraded: [], calls });
    },
    calls: () => calls,
  };
}

describe('quality bench: one call', () => {
  it('asks again when the database stopped answering for a while, and counts it', async () => {
    const tally: Tally = { rateLimited: 0, incomplete: 0 };
    const flaky = failingFirst(['dependency_unavailable', 'dependency_unavailable']);
    const { value } = await timed(flaky.call, tally, 0);
    assert.equal(value.calls, 3);
    assert.deepEqual(tally, { rateLimited: 0, incomplete: 2 });
  });

  it('asks again when the product was paused past the client’s deadline or dropped the connection', async () => {
    const tally: Tally = { rateLimited: 0, incomplete: 0 };
    const paused = failingFirst(['client_timeout', 'network_error']);
    const { value } = await timed(paused.call, tally, 0);
    assert.equal(value.calls, 3);
    assert.deepEqual(tally, { rateLimited: 0, incomplete: 2 });
  });

  it('gives up on a database that stays unavailable, and on any other error at once', async () => {
    const down = failingFirst(Array<string>(10).fill('dependency_unavailable'));
    await assert.rejects(timed(down.call, { rateLimited: 0, incomplete: 0 }, 0), /dependency_unavailable/); // prettier-ignore
    assert.equal(down.calls(), 4);
    const bad = failingFirst(['validation_error']);
    await assert.rejects(timed(bad.call, { rateLimited: 0, incomplete: 0 }, 0), /validation_error/); // prettier-ignore
    assert.equal(bad.calls(), 1);
  });
});
