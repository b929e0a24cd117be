import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { ROOT } from '../support/child-process.ts';

/** Runs a script of the checkout and collects its output. */
function runScript(file: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, file), ...args], {
      cwd: ROOT,
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `npm run reindex` calls the admin API with the key `npm start` generated
 * (DATA_DIR/admin-key) when ADMIN_API_KEY is not set, as the CLI does.
 */
it('the reindex script sends the generated admin key when ADMIN_API_KEY is not set', async () => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'admin-scripts-'));
  const seen: string[] = [];
  // Stands in for the API's answer only: what is checked is the key the script sends.
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ requeued: 3 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, NODE_ENV: 'development' };
    delete env.ADMIN_API_KEY;
    const missing = await runScript('scripts/reindex.ts', ['--url', url], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no admin key: set ADMIN_API_KEY/);
    assert.deepEqual(seen, []);

    const key = 'generated-admin-key-0123456789abcdef';
    await fs.writeFile(path.join(dataDir, 'admin-key'), `${key}\n`, { mode: 0o600 });
    const done = await runScript('scripts/reindex.ts', ['--url', url], env);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /requeued 3 failed memories of every user/);
    assert.deepEqual(seen, [`POST /v1/admin/reindex Bearer ${key}`]);
  } finally {
    server.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});
