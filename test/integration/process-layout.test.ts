import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PROCESS_HEADER } from '../../app/process-header.ts';
import { freePort } from '../../infra/temporal/temporal-dev-server.ts';
import { createTestDatabase, dropTestDatabase } from '../../tools/dev-services/local-postgres.ts';
import { exitOf, spawnScriptUntilReady } from '../support/child-process.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import { ADMIN_KEY, eventually } from '../support/test-api.ts';
import { requireTestEnv } from '../support/test-env.ts';

const BURST = 20;

interface Reply {
  status: number;
  pid: string | undefined;
  body: any;
}

/** One request on a connection of its own, so the parent hands each to the next API process. */
function request(base: string, method: string, path: string, key?: string, body?: unknown) {
  return new Promise<Reply>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      `${base}${path}`,
      {
        method,
        agent: false,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => {
          const pid = res.headers[PROCESS_HEADER.toLowerCase()];
          resolve({
            status: res.statusCode ?? 0,
            pid: typeof pid === 'string' ? pid : undefined,
            body: text.startsWith('{') ? JSON.parse(text) : text,
          });
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Every process below `pid` (Linux `/proc`), children first. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const children = parents.get(queue.shift()!) ?? [];
    found.push(...children);
    queue.push(...children);
  }
  return found;
}

/** Until its parent has reaped it (so the parent knows it is gone), a dead process counts. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A server where a fresh database can be made: the pgvector one the suite runs against. */
function adminUrl(): string {
  const url = new URL(requireTestEnv('TEST_PGVECTOR_URL'));
  url.pathname = '/postgres';
  return process.env.TEST_PGVECTOR_ADMIN_URL || url.toString();
}

/** The suite, with the shared limits held by the parent (`parent`) or in Redis (`redis`). */
function layoutSuite(limits: 'parent' | 'redis') {
  const title = `npm start with PROCESSES=api,worker, limits ${limits === 'parent' ? 'in the parent' : 'in Redis'}`;
  describe(`${title}: 2 API processes on one port, 1 worker process`, () => {
    const database = `layout_${Date.now()}_${limits}`;
    let child: ChildProcess;
    let output: () => string;
    let base: string;
    let port: number;
    let dataDir: TempDir;

    before(async () => {
      const databaseUrl = await createTestDatabase(adminUrl(), database);
      dataDir = await createTempDir('layout-');
      port = await freePort();
      const queue = `layout-${randomUUID().slice(0, 8)}`;
      const started = await spawnScriptUntilReady(
        'start',
        'scripts/start.ts',
        {
          PROCESSES: 'api,worker',
          API_PROCESSES: '2',
          WORKER_PROCESSES: '1',
          PORT: String(port),
          DATA_DIR: dataDir.path,
          DATABASE_URL: databaseUrl,
          TEMPORAL_ADDRESS: requireTestEnv('TEST_TEMPORAL_ADDRESS'),
          TASK_QUEUE_SYSTEM: `${queue}-system`,
          TASK_QUEUE_INDEXING: `${queue}-indexing`,
          TASK_QUEUE_NARRATIVES: `${queue}-narratives`,
          TASK_QUEUE_CONSOLIDATION: `${queue}-consolidation`,
          TASK_QUEUE_LOADTESTS: `${queue}-loadtests`,
          EMBEDDER: 'hashing',
          ADMIN_API_KEY: ADMIN_KEY,
          RATE_LIMIT_PER_S: '1',
          RATE_LIMIT_BURST: String(BURST),
          REDIS_URL: limits === 'redis' ? requireTestEnv('TEST_REDIS_URL') : '',
          QDRANT_URL: '',
          NEO4J_URL: '',
          GEMINI_API_KEY: '',
          GEMINI_BASE_URL: '',
          LOG_LEVEL: 'warn',
        },
        /API\s+(http:\/\/127\.0\.0\.1:\d+)/,
      );
      ({ child, output } = started);
      base = started.match[1]!;
    });

    after(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const left = descendants(child.pid!);
        child.kill('SIGKILL');
        await exitOf(child);
        for (const pid of left) if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
      await dataDir?.remove();
      await dropTestDatabase(adminUrl(), database).catch(() => undefined);
    });

    it('prints the API on PORT and the layout', () => {
      assert.equal(base, `http://127.0.0.1:${port}`);
      assert.match(
        output(),
        new RegExp(
          'Processes\\s+2 API processes, 1 worker process, PostgreSQL at 127\\.0\\.0\\.1:\\d+/layout_\\d+_' +
            `${limits}, limits shared ${limits === 'parent' ? 'through this process' : 'in Redis'}`,
        ),
      );
    });

    it('serves the port from two distinct API processes', async () => {
      const replies = await Promise.all(
        Array.from({ length: 8 }, () => request(base, 'GET', '/healthz')),
      );
      assert.ok(replies.every((r) => r.status === 200));
      const pids = new Set(replies.map((r) => r.pid));
      assert.equal(pids.size, 2, `served by ${[...pids].join(', ')}`);
      assert.ok(![...pids].includes(String(child.pid)), 'not by the parent');
    });

    it('indexes saves made through the port in the worker process and finds them again', async () => {
      const user = await request(base, 'POST', '/v1/admin/users', ADMIN_KEY, {});
      assert.equal(user.status, 201);
      const key = user.body.api_key as string;
      const contents = ['Lisbon trams climb the hills', 'Porto bridges span the Douro river'];
      const saved = await Promise.all(
        contents.map((content) => request(base, 'POST', '/v1/memories', key, { content })),
      );
      assert.ok(saved.every((s) => s.status === 201));
      assert.equal(new Set(saved.map((s) => s.pid)).size, 2, 'saved through both API processes');
      for (const s of saved) {
        await eventually(`memory ${s.body.id} indexed`, async () => {
          const got = await request(base, 'GET', `/v1/memories/${s.body.id}`, key);
          return got.body.index_state === 'indexed';
        });
      }
      const found = await request(base, 'POST', '/v1/search', key, {
        query: 'Douro river bridges',
      });
      assert.equal(found.status, 200);
      assert.equal(found.body.results[0]?.id, saved[1]!.body.id);
    });

    it('counts one user burst across both API processes against one limit', async () => {
      const user = await request(base, 'POST', '/v1/admin/users', ADMIN_KEY, {});
      const key = user.body.api_key as string;
      const replies = await Promise.all(
        Array.from({ length: BURST + 20 }, () => request(base, 'GET', '/v1/memories', key)),
      );
      const allowed = replies.filter((r) => r.status === 200).length;
      const refused = replies.filter((r) => r.status === 429).length;
      assert.equal(allowed + refused, BURST + 20);
      // The burst, plus what 1/s refills while the requests are under way.
      assert.ok(allowed >= BURST && allowed <= BURST + 3, `${allowed} allowed of ${BURST + 20}`);
      assert.equal(new Set(replies.map((r) => r.pid)).size, 2, 'both processes were asked');
    });

    it('restarts an API process that dies while the other keeps serving', async () => {
      const first = await Promise.all(
        Array.from({ length: 4 }, () => request(base, 'GET', '/healthz')),
      );
      const victim = Number(first[0]!.pid);
      process.kill(victim, 'SIGKILL');
      await eventually('the API process has died', async () => !alive(victim), 10_000);
      const during = await Promise.all(
        Array.from({ length: 6 }, () => request(base, 'GET', '/healthz')),
      );
      assert.ok(during.every((r) => r.status === 200));
      assert.ok(during.every((r) => r.pid !== String(victim)));
      await eventually(
        'two API processes serve again',
        async () => {
          const replies = await Promise.all(
            Array.from({ length: 6 }, () => request(base, 'GET', '/healthz')),
          );
          const pids = new Set(replies.map((r) => r.pid));
          return pids.size === 2 && !pids.has(String(victim));
        },
        120_000,
      );
    });

    it('stops every process it started on SIGTERM', async () => {
      const processes = descendants(child.pid!);
      assert.ok(processes.length >= 3, `children: ${processes.join(', ')}`);
      child.kill('SIGTERM');
      assert.equal(await exitOf(child), 0, output());
      await eventually(
        'no process left',
        async () => processes.every((pid) => !alive(pid)),
        10_000,
      );
      assert.equal(await portOpen(port), false);
    });
  });
}

layoutSuite('parent');
layoutSuite('redis');
