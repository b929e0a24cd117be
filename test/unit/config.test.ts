import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../infra/config.ts';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems.map((p) => `${p.variable}: ${p.message}`);
  }
  assert.fail('expected a ConfigError');
}

describe('configuration', () => {
  it('starts on embedded defaults with an empty environment', () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 8080);
    assert.equal(config.TEMPORAL_PORT, 7233);
    assert.equal(config.TEMPORAL_UI_PORT, 8233);
    assert.equal(config.PG_POOL_SIZE, 20);
    assert.equal(config.MEMORY_BUDGET_MB, 2048);
    assert.equal(config.embeddedTemporal, true);
    assert.equal(config.temporalAddress, '127.0.0.1:7233');
    assert.equal(config.modelConfigured, false);
    assert.equal(config.DATABASE_URL, undefined);
  });

  it('names each bad variable and what it expects', () => {
    const found = problems({ PORT: '99999', PG_POOL_SIZE: 'lots', LOG_LEVEL: 'loud' });
    assert.equal(found.length, 3);
    assert.match(found[0]!, /^PORT: expected a port between 0 and 65535 \(got "99999"\)/);
    assert.match(found[1]!, /^LOG_LEVEL: /);
    assert.match(found[2]!, /^PG_POOL_SIZE: expected a whole number/);
  });

  it('rejects a DATABASE_URL that is not a URL', () => {
    assert.match(problems({ DATABASE_URL: 'localhost' })[0]!, /^DATABASE_URL: expected a postgres/);
  });

  it('uses an external Temporal when TEMPORAL_ADDRESS is set, and checks its form', () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: 'temporal.internal:7233' });
    assert.equal(config.embeddedTemporal, false);
    assert.equal(config.temporalAddress, 'temporal.internal:7233');
    assert.match(
      problems({ TEMPORAL_ADDRESS: 'no-port' })[0]!,
      /^TEMPORAL_ADDRESS: expected host:port/,
    );
  });

  it('requires TEMPORAL_ADDRESS when an API key is given, and both halves of a client cert', () => {
    assert.deepEqual(
      problems({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS_CERT_PATH: '/c.pem' }).map(
        (p) => p.split(':')[0],
      ),
      ['TEMPORAL_TLS_KEY_PATH', 'TEMPORAL_ADDRESS'],
    );
  });

  it('treats an empty variable as unset', () => {
    assert.equal(loadConfig({ PORT: '', DATABASE_URL: '' }).PORT, 8080);
  });

  it('knows a model is configured when a Gemini key or base URL is given', () => {
    assert.equal(loadConfig({ GEMINI_BASE_URL: 'http://127.0.0.1:8765' }).modelConfigured, true);
    assert.equal(loadConfig({ GEMINI_API_KEY: 'key' }).modelConfigured, true);
  });

  it('never echoes the value of a secret it refuses, only what is wrong with it', () => {
    const secrets = {
      ADMIN_API_KEY: 'hunter2-short',
      DATABASE_URL: 'postgres//admin:s3cr3t-pw@db.internal/memories',
      REDIS_URL: 'not a url:pa55word',
      OPS_TOKEN: 'short!tok',
      GEMINI_BASE_URL: 'http//user:gem-secret@host',
    };
    let message = '';
    try {
      loadConfig(secrets);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      message = `${error.message}\n${JSON.stringify(error.problems)}`;
    }
    for (const name of Object.keys(secrets)) assert.match(message, new RegExp(`${name}: `));
    assert.match(message, /ADMIN_API_KEY: expected at least 16 characters/);
    for (const value of [
      ...Object.values(secrets),
      'hunter2',
      's3cr3t',
      'pa55word',
      'gem-secret',
    ]) {
      assert.ok(!message.includes(value), `the error repeats a secret: ${value}`);
    }
    // A value that is no secret is still shown, to help fix it.
    assert.match(problems({ PORT: 'eighty' })[0]!, /\(got "eighty"\)/);
  });

  it('refuses a HOST beyond loopback without OPS_TOKEN, and takes one with it', () => {
    const [problem] = problems({ HOST: '0.0.0.0' });
    assert.match(problem!, /^OPS_TOKEN: required when HOST is not a loopback address/);
    const token = 'a'.repeat(32);
    assert.equal(loadConfig({ HOST: '0.0.0.0', OPS_TOKEN: token }).OPS_TOKEN, token);
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.1.1']) {
      assert.equal(loadConfig({ HOST: host }).HOST, host);
    }
  });

  it('has rate limits on by default, and reads the MCP origin and host lists', () => {
    const config = loadConfig({
      MCP_ALLOWED_ORIGINS: 'https://chat.example.com, http://localhost:5173',
      MCP_ALLOWED_HOSTS: 'memory.example.com',
    });
    assert.equal(config.RATE_LIMIT_ENABLED, true);
    assert.equal(config.RATE_LIMIT_PER_S, 20);
    assert.equal(config.RATE_LIMIT_BURST, 60);
    assert.equal(config.MCP_MAX_SESSIONS_PER_USER, 20);
    assert.deepEqual(config.MCP_ALLOWED_ORIGINS, [
      'https://chat.example.com',
      'http://localhost:5173',
    ]);
    assert.deepEqual(config.MCP_ALLOWED_HOSTS, ['memory.example.com']);
    assert.match(
      problems({ MCP_ALLOWED_ORIGINS: 'https://chat.example.com/path' })[0]!,
      /^MCP_ALLOWED_ORIGINS: expected a comma-separated list of http\(s\) origins/,
    );
    assert.equal(loadConfig({ RATE_LIMIT_ENABLED: 'false' }).RATE_LIMIT_ENABLED, false);
  });

  it('runs a local PostgreSQL by default, DATABASE_URL when set, and PGlite only when asked', () => {
    const byDefault = loadConfig({});
    assert.equal(byDefault.STORE, 'postgres');
    assert.equal(byDefault.database, 'embedded');
    assert.equal(byDefault.LOCAL_PG_PORT, 0);
    assert.equal(loadConfig({ LOCAL_PG_PORT: '55432' }).LOCAL_PG_PORT, 55432);
    assert.equal(loadConfig({ DATABASE_URL: 'postgres://db.internal/m' }).database, 'external');
    assert.equal(loadConfig({ STORE: 'pglite' }).database, 'pglite');
    assert.match(problems({ STORE: 'mysql' })[0]!, /^STORE: expected postgres or pglite/);
    assert.match(problems({ LOCAL_PG_PORT: '70000' })[0]!, /^LOCAL_PG_PORT: expected a port/);
  });

  it('refuses PGlite with DATABASE_URL or with API and workers in processes of their own', () => {
    assert.match(
      problems({ STORE: 'pglite', DATABASE_URL: 'postgres://db.internal/m' })[0]!,
      /^STORE: pglite keeps the data in this process; unset DATABASE_URL or set STORE=postgres/,
    );
    assert.match(
      problems({ STORE: 'pglite', PROCESSES: 'api,worker' })[0]!,
      /^PROCESSES: api,worker needs a database several processes share/,
    );
  });

  it('reads PROCESSES in any order and case, and allows several processes of a kind only split', () => {
    assert.equal(loadConfig({}).PROCESSES, 'all');
    assert.equal(loadConfig({ PROCESSES: ' Worker, api ' }).PROCESSES, 'split');
    assert.match(problems({ PROCESSES: 'api' })[0]!, /^PROCESSES: expected all \(one process\)/);
    const split = loadConfig({
      PROCESSES: 'api,worker',
      API_PROCESSES: '4',
      WORKER_PROCESSES: '2',
    });
    assert.equal(split.API_PROCESSES, 4);
    assert.equal(split.WORKER_PROCESSES, 2);
    assert.deepEqual(
      problems({ API_PROCESSES: '2' }).map((p) => p.split(':')[0]),
      ['API_PROCESSES'],
    );
    assert.match(
      problems({ WORKER_PROCESSES: '3' })[0]!,
      /^WORKER_PROCESSES: more than one process of a kind needs PROCESSES=api,worker/,
    );
    assert.match(problems({ API_PROCESSES: '0' })[0]!, /^API_PROCESSES: /);
  });
});
