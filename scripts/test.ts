import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  ensureLocalPostgres,
  createTestDatabase,
  dropTestDatabase,
} from '../tools/dev-services/local-postgres.ts';
import { ensureChromium } from '../tools/dev-services/chromium.ts';
import { ensureNeo4j } from '../tools/dev-services/neo4j-server.ts';
import { ensurePgvectorServer } from '../tools/dev-services/pgvector-server.ts';
import { ensureRedisServer } from '../tools/dev-services/redis-server.ts';
import { ensureTemporalCli } from '../infra/temporal/temporal-cli.ts';
import { freePort, startTemporalDevServer } from '../infra/temporal/temporal-dev-server.ts';
import { ensureE5Model } from '../infra/local/e5/install.ts';
import { ensureMiniLmModel } from '../infra/local/minilm/install.ts';
import { projectRoot } from '../infra/project-root.ts';
import { testFiles, testLanes } from './test-lanes.ts';

// `npm test [-- files...] [-- --no-checks] [-- --concurrency=<n>]`: type check, lint and format
// check (at once), then start the real services the suite needs (Temporal dev server, PostgreSQL 15,
// PostgreSQL 18 with pgvector, Redis, Neo4j), install the local sentence models (e5-small-v2 int8,
// all-MiniLM-L6-v2 as ONNX) and Chromium, run every test file with Node's test runner, and tear
// the services down again. Files run two at a time (`--concurrency`, default 2); the few listed
// in scripts/test-lanes.ts run after them, one at a time.

const log = (msg: string) => console.log(`[test] ${msg}`);

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, { cwd: projectRoot, stdio: 'inherit', env });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Runs a command with its output held back; resolves with its exit code and output. */
function runQuietly(command: string, args: readonly string[]) {
  return new Promise<{ code: number; output: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

/**
 * Type check, lint and format check side by side (they share nothing, and
 * each leaves part of the 2 cores idle); each one's output is printed whole
 * once it ends. Throws naming every check that failed.
 */
async function runChecks(bin: (name: string) => string) {
  const checks = [
    ['type check', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']],
    ['lint', bin('eslint'), ['.']],
    ['format check', bin('prettier'), ['--check', '.', '--log-level', 'warn']],
  ] as const;
  log(`${checks.map(([label]) => label).join(', ')}…`);
  const failed = await Promise.all(
    checks.map(async ([label, command, args]) => {
      const { code, output } = await runQuietly(command, args);
      if (output.trim()) process.stdout.write(`[test] ${label}:\n${output}`);
      return code === 0 ? [] : [label];
    }),
  );
  if (failed.flat().length > 0) throw new Error(`${failed.flat().join(', ')} failed`);
}

/** The value of `--concurrency=<n>`: how many test files run at once (default 2). */
function concurrencyOf(args: readonly string[]): number {
  const given = args.find((a) => a.startsWith('--concurrency='))?.slice('--concurrency='.length);
  if (given === undefined) return 2;
  if (!/^[1-9][0-9]*$/.test(given))
    throw new Error(`--concurrency: expected a positive integer, got ${given}`);
  return Number(given);
}

async function main() {
  const args = process.argv.slice(2);
  const skipChecks = args.includes('--no-checks');
  const selected = args.filter((a) => !a.startsWith('--'));
  const concurrency = concurrencyOf(args);
  const bin = (name: string) => path.join(projectRoot, 'node_modules', '.bin', name);

  if (!skipChecks) await runChecks(bin);

  const started = Date.now();
  const cliPath = await ensureTemporalCli({ projectRoot, log });
  // Installed before any service starts, so a failed install leaves nothing running.
  const minilm = await ensureMiniLmModel({ projectRoot, log });
  const e5 = await ensureE5Model({ projectRoot, log });
  // The dashboard test drives the page in headless Chromium (playwright-core downloads no browser).
  const chromiumPath = await ensureChromium({ log });
  const postgres = await ensureLocalPostgres({ projectRoot, log });
  const dbName = `memengine_test_${Date.now()}_${process.pid}`;
  const databaseUrl = await createTestDatabase(postgres.adminUrl, dbName);
  const runDir = path.join(projectRoot, '.data', 'test-runs', String(Date.now()));
  await fs.mkdir(runDir, { recursive: true });
  const temporal = await startTemporalDevServer({
    cliPath,
    port: await freePort(),
    uiPort: await freePort(),
    dbFile: path.join(runDir, 'temporal.db'),
    logFile: path.join(runDir, 'temporal.log'),
    log,
  });
  const redis = await ensureRedisServer({ projectRoot, log });
  const pgvector = await ensurePgvectorServer({ projectRoot, log });
  const pgvectorUrl = await createTestDatabase(pgvector.adminUrl, dbName);
  const neo4j = await ensureNeo4j({ projectRoot, log });
  log(`services up in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  let code = 1;
  try {
    const files =
      selected.length > 0
        ? selected.map((f) => path.relative(projectRoot, path.resolve(projectRoot, f)))
        : await testFiles(projectRoot, path.join(projectRoot, 'test'));
    const lanes = testLanes(files);
    const runFiles = (lane: string[], atOnce: number) =>
      run(
        process.execPath,
        ['--import', 'tsx', '--test', `--test-concurrency=${atOnce}`, ...lane],
        {
          ...process.env,
          NODE_ENV: 'test',
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
          TEMPORAL_CLI_PATH: cliPath,
          TEST_DATABASE_URL: databaseUrl,
          TEST_PG_ADMIN_URL: postgres.adminUrl,
          TEST_TEMPORAL_ADDRESS: temporal.address,
          TEST_REDIS_URL: redis.url,
          TEST_PGVECTOR_URL: pgvectorUrl,
          TEST_NEO4J_URL: neo4j.url,
          TEST_NEO4J_USER: neo4j.username,
          TEST_NEO4J_PASSWORD: neo4j.password,
          TEST_MINILM_DIR: minilm.dir,
          TEST_E5_DIR: e5.dir,
          TEST_CHROMIUM_PATH: chromiumPath,
          TEST_RUN_DIR: runDir,
        },
      );
    code = 0;
    if (lanes.shared.length > 0) code = await runFiles(lanes.shared, concurrency);
    if (lanes.alone.length > 0) {
      log(`one at a time (scripts/test-lanes.ts): ${lanes.alone.join(' ')}`);
      code = Math.max(code, await runFiles(lanes.alone, 1));
    }
  } finally {
    await neo4j.stop();
    await redis.stop();
    await temporal.stop();
    await dropTestDatabase(postgres.adminUrl, dbName).catch((error: unknown) => {
      log(`could not drop ${dbName}: ${String(error)}`);
    });
    await postgres.stop();
    await dropTestDatabase(pgvector.adminUrl, dbName).catch((error: unknown) => {
      log(`could not drop ${dbName} on the pgvector server: ${String(error)}`);
    });
    await pgvector.stop();
    await fs.rm(runDir, { recursive: true, force: true });
  }
  process.exitCode = code;
}

main().catch((error: unknown) => {
  console.error(`[test] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
