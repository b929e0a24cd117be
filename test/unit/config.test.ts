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
});
