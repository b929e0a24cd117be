import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import {
  adminKeyCommand,
  ensureAdminKeyFile,
  readAdminKey,
  withAdminKey,
} from '../../app/admin-key.ts';
import { loadConfig } from '../../infra/config.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: string[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }) };
}

/** Runs the command with its output captured. */
async function runCommand(argv: string[], env: NodeJS.ProcessEnv) {
  let stdout = '';
  let stderr = '';
  const code = await adminKeyCommand(argv, env, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

describe('the generated admin key', () => {
  let dir: TempDir;
  let dataDir: string;
  beforeEach(async () => {
    dir = await createTempDir('admin-key-');
    // A data directory that does not exist yet, as on a fresh clone.
    dataDir = path.join(dir.path, 'data');
  });
  afterEach(() => dir.remove());

  it('is generated on first start into DATA_DIR/admin-key, readable only by its owner', async () => {
    const { logger, lines } = capturingLogger();
    const config = await withAdminKey(loadConfig({ DATA_DIR: dataDir }), logger, {
      announce: true,
    });
    const file = path.join(dataDir, 'admin-key');
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    const key = (await fs.readFile(file, 'utf8')).trim();
    assert.equal(config.ADMIN_API_KEY, key);
    assert.ok(key.length >= 40, 'at least 32 random bytes');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /admin key generated/);
    assert.match(lines[0]!, /npx memory-engine admin-key/);
    assert.ok(!lines[0]!.includes(key), 'the log never shows the key');
  });

  it('is reused by later starts, which say so without the key', async () => {
    const first = await withAdminKey(loadConfig({ DATA_DIR: dataDir }), pino({ level: 'silent' }), {
      announce: false,
    });
    const { logger, lines } = capturingLogger();
    const second = await withAdminKey(loadConfig({ DATA_DIR: dataDir }), logger, {
      announce: true,
    });
    assert.equal(second.ADMIN_API_KEY, first.ADMIN_API_KEY);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /admin key kept/);
  });

  it('is one key when several processes start at once', async () => {
    const keys = await Promise.all(
      Array.from({ length: 8 }, () => ensureAdminKeyFile(dataDir).then((r) => r.key)),
    );
    assert.equal(new Set(keys).size, 1);
    assert.equal((await fs.readFile(path.join(dataDir, 'admin-key'), 'utf8')).trim(), keys[0]);
    assert.deepEqual(await fs.readdir(dataDir), ['admin-key'], 'no scratch file is left behind');
  });

  it('is not generated when ADMIN_API_KEY is set, nor in production', async () => {
    const silent = pino({ level: 'silent' });
    const set = await withAdminKey(
      loadConfig({ DATA_DIR: dataDir, ADMIN_API_KEY: 'a-key-chosen-by-the-operator' }),
      silent,
      { announce: true },
    );
    assert.equal(set.ADMIN_API_KEY, 'a-key-chosen-by-the-operator');
    const production = await withAdminKey(
      loadConfig({ DATA_DIR: dataDir, NODE_ENV: 'production' }),
      silent,
      { announce: true },
    );
    assert.equal(production.ADMIN_API_KEY, undefined, 'the admin API stays refused');
    await assert.rejects(fs.access(dataDir), 'nothing was written');
  });

  it('refuses to start over a file that holds no usable key, and says what to do', async () => {
    await fs.mkdir(dataDir);
    await fs.writeFile(path.join(dataDir, 'admin-key'), 'short\n');
    await assert.rejects(
      withAdminKey(loadConfig({ DATA_DIR: dataDir }), pino({ level: 'silent' }), {
        announce: true,
      }),
      /admin-key holds no usable admin key.*delete it/,
    );
  });

  it('is what scripts calling the admin API read, without generating one', async () => {
    const config = loadConfig({ DATA_DIR: dataDir });
    assert.equal(await readAdminKey(config), undefined);
    await assert.rejects(fs.access(dataDir), 'reading generated nothing');
    const { key } = await ensureAdminKeyFile(dataDir);
    assert.equal(await readAdminKey(config), key);
    const production = loadConfig({ DATA_DIR: dataDir, NODE_ENV: 'production' });
    assert.equal(await readAdminKey(production), undefined);
  });

  it('tightens a key file others could read back to 0600', async () => {
    const { key } = await ensureAdminKeyFile(dataDir);
    await fs.chmod(path.join(dataDir, 'admin-key'), 0o644);
    const again = await ensureAdminKeyFile(dataDir);
    assert.equal(again.key, key);
    assert.equal(again.tightened, true);
    assert.equal((await fs.stat(path.join(dataDir, 'admin-key'))).mode & 0o777, 0o600);
  });
});

describe('memory-engine admin-key', () => {
  let dir: TempDir;
  beforeEach(async () => {
    dir = await createTempDir('admin-key-command-');
  });
  afterEach(() => dir.remove());

  it('prints the generated key alone on stdout, for $(...)', async () => {
    const { key } = await ensureAdminKeyFile(dir.path);
    const out = await runCommand([], { DATA_DIR: dir.path });
    assert.deepEqual(out, { code: 0, stdout: `${key}\n`, stderr: '' });
    const flag = await runCommand(['--data-dir', dir.path], {});
    assert.equal(flag.stdout, `${key}\n`);
  });

  it('prints ADMIN_API_KEY when the environment sets it', async () => {
    const out = await runCommand([], {
      DATA_DIR: dir.path,
      ADMIN_API_KEY: 'a-key-chosen-by-the-operator',
    });
    assert.deepEqual(out, { code: 0, stdout: 'a-key-chosen-by-the-operator\n', stderr: '' });
  });

  it('exits 1 with a line saying how to get one when there is none', async () => {
    const out = await runCommand([], { DATA_DIR: dir.path });
    assert.equal(out.code, 1);
    assert.equal(out.stdout, '');
    assert.match(out.stderr, /no admin key in .*admin-key: start the product once \(npm start\)/);
  });

  it('prints no generated key in production, where the product ignores it', async () => {
    await ensureAdminKeyFile(dir.path);
    const out = await runCommand([], { DATA_DIR: dir.path, NODE_ENV: 'production' });
    assert.equal(out.code, 1);
    assert.equal(out.stdout, '');
    assert.match(out.stderr, /ADMIN_API_KEY is not set/);
  });

  it('answers bad usage with the usage and code 2', async () => {
    const out = await runCommand(['--bogus'], { DATA_DIR: dir.path });
    assert.equal(out.code, 2);
    assert.match(out.stderr, /usage: memory-engine admin-key/);
  });
});
