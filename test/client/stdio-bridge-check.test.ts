import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkApi, main, parseBridgeArgs } from '../../api/mcp/stdio-bridge.ts';
import { freePort } from '../../infra/process/service-tools.ts';
import { createUser, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

const options = (url: string, key: string) => parseBridgeArgs(['--url', url, '--key', key], {});

describe('`memory-engine mcp` checks the URL and key through the client before bridging', () => {
  let engine: TestEngine;
  let api: TestApi;

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine, { worker: false });
  });
  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  it('passes a key the API accepts, with or without /mcp in the URL', async () => {
    const { api_key } = await createUser(api.url);
    assert.deepEqual(await checkApi(options(api.url, api_key)), { ok: true });
    assert.deepEqual(await checkApi(options(`${api.url}/mcp`, api_key)), { ok: true });
  });

  it("refuses to start on a key the API refuses, quoting the API's code and request id", async () => {
    const check = await checkApi(options(api.url, 'mem_not-a-key'));
    assert.equal(check.ok, false);
    assert.ok(!check.ok && check.fatal);
    assert.match(check.message, /refused the key: 401 unauthorized: .+ \(request id [\w-]+\)$/);
    assert.equal(await main(['--url', api.url, '--key', 'mem_not-a-key']), 1);
  });

  it('refuses to start when nothing answers at the URL', async () => {
    const check = await checkApi(options(`http://127.0.0.1:${await freePort()}`, 'k'), 2000);
    assert.ok(!check.ok && check.fatal);
    assert.match(
      check.message,
      /no memory-engine API answers at .+: network_error: could not reach/,
    );
  });
});
