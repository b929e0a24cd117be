// The README's "Five minutes" section, run as a reader would: `npm start` on a
// fresh data directory, then every ```sh quickstart block pasted, in order,
// into one bash session in the checkout, each answer checked.
//
// The blocks run verbatim but for one textual change: the README's
// http://127.0.0.1:8080 becomes the free port this run's product listens on
// (the suite must not depend on 8080 being free). The session gets the run's
// DATA_DIR, as a reader's shell and `npm start` share `.data`. Between blocks
// the test only waits, as a reader does: after the saves, until they are
// indexed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../infra/temporal/temporal-dev-server.ts';
import { exitOf, ROOT } from '../support/child-process.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import { requireTestEnv } from '../support/test-env.ts';

requireTestEnv('TEMPORAL_CLI_PATH');

const README_URL = 'http://127.0.0.1:8080';

/** The section's fenced blocks whose info string is `sh <tag>`, in order. */
async function readmeBlocks(tag: string): Promise<string[]> {
  const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Five minutes\n');
  assert.ok(start >= 0, 'README.md has a "## Five minutes" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const fence = new RegExp(`^\`\`\`sh ${tag}\\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  return [...section.matchAll(fence)].map((m) => m[1]!);
}

/** What one pasted block printed, and the status of its last command. */
interface Pasted {
  stdout: string;
  stderr: string;
  status: number;
}

/** One interactive-like bash: blocks are pasted in turn and keep their variables. */
function bashSession(env: NodeJS.ProcessEnv) {
  const shell = spawn('bash', ['--noprofile', '--norc'], {
    cwd: ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  shell.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  shell.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let count = 0;
  return {
    async paste(block: string, timeoutMs = 60_000): Promise<Pasted> {
      const marker = `__quickstart_block_${++count}_done__`;
      const done = new RegExp(`\\n?${marker} (\\d+)\\n`);
      const [outBefore, errBefore] = [stdout.length, stderr.length];
      shell.stdin.write(`${block}\nprintf '\\n%s %s\\n' ${marker} "$?"\n`);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = done.exec(stdout.slice(outBefore));
        if (match) {
          return {
            stdout: stdout.slice(outBefore, outBefore + match.index),
            stderr: stderr.slice(errBefore),
            status: Number(match[1]),
          };
        }
        if (shell.exitCode !== null || Date.now() > deadline) {
          throw new Error(`block did not finish:\n${block}\nstdout: ${stdout}\nstderr: ${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () => shell.stdin.end(),
  };
}

/** Each JSON document a block printed (one a line; curl's answers end without a newline). */
function jsonAnswers(out: Pasted): unknown[] {
  assert.equal(out.status, 0, `the block failed: ${out.stderr}`);
  return out.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => line.replace(/}\{/g, '}\n{').split('\n'))
    .map((doc) => JSON.parse(doc) as unknown);
}

interface Product {
  child: ChildProcess;
  output: () => string;
}

/** Runs the README's start command in bash, in its own process group, until it says it is up. */
async function startProduct(command: string, env: NodeJS.ProcessEnv): Promise<Product> {
  const child = spawn('bash', ['-c', command], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('memory-engine is up')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${output}`)));
  });
  return { child, output: () => output };
}

describe('README "Five minutes", pasted against npm start on a fresh data directory', () => {
  let dataDir: TempDir;
  let product: Product;
  let shell: ReturnType<typeof bashSession>;
  let port: number;
  let temporalPort: number;
  const blocks: string[] = [];
  const answers: Pasted[] = [];

  before(async () => {
    const [server] = await readmeBlocks('quickstart-server');
    assert.ok(server, 'the section has a ```sh quickstart-server block');
    blocks.push(...(await readmeBlocks('quickstart')));
    dataDir = await createTempDir('quickstart-');
    // As root the local PostgreSQL runs as the system user memengine, who must enter the data directory.
    await fs.chmod(dataDir.path, 0o755);
    port = await freePort();
    temporalPort = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir.path };
    for (const name of ['ADMIN_API_KEY', 'MEMORY_ENGINE_URL', 'MEMORY_ENGINE_API_KEY']) {
      delete env[name];
    }
    product = await startProduct(server.trim(), {
      ...env,
      PORT: String(port),
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(await freePort()),
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      // The defaults `npm start` has on a fresh clone: its own PostgreSQL 18 and Temporal.
      DATABASE_URL: '',
      STORE: '',
      LOCAL_PG_PORT: '',
      TEMPORAL_ADDRESS: '',
    });
    shell = bashSession(env);
  });

  after(async () => {
    shell?.close();
    // After a failure before the Ctrl-C test: stop it the same way, so no server outlives the run.
    if (product) await pressCtrlC(product.child);
    // A product killed before it stopped its servers leaves them running: stop them here.
    if (dataDir) await stopServersOf(dataDir.path);
    await dataDir?.remove();
  });

  /** Pastes the next block (the README's port swapped for this run's). */
  const pasteNext = async (): Promise<Pasted> => {
    const block = blocks[answers.length];
    assert.ok(block !== undefined, 'the README has fewer quickstart blocks than the test checks');
    const answer = await shell.paste(block.replaceAll(README_URL, `http://127.0.0.1:${port}`));
    answers.push(answer);
    return answer;
  };

  it('generated an admin key in DATA_DIR (mode 0600) and logged where it is, never the key', async () => {
    const file = path.join(dataDir.path, 'admin-key');
    const stat = await fs.stat(file);
    assert.equal(stat.mode & 0o777, 0o600);
    const key = (await fs.readFile(file, 'utf8')).trim();
    assert.ok(key.length >= 32, 'a strong key');
    const lines = product.output().split('\n');
    const told = lines.filter((line) => line.includes('admin key generated'));
    assert.equal(told.length, 1, product.output());
    assert.match(told[0]!, /npx memory-engine admin-key/);
    assert.ok(!product.output().includes(key), 'the key itself is never logged');
  });

  it('creates a user with the admin key and keeps the user key in $API_KEY', async () => {
    const [created] = jsonAnswers(await pasteNext()) as { api_key: string; user_id: string }[];
    assert.match(created?.api_key ?? '', /^mem_/);
    assert.match(created?.user_id ?? '', /^[0-9a-f-]{36}$/);
    const probe = await shell.paste('printf "%s\\n" "$API_KEY"');
    assert.equal(probe.stdout.trim(), created!.api_key);
  });

  it('saves three memories and lists them', async () => {
    const [saved, listed] = jsonAnswers(await pasteNext()) as [
      { ids: string[]; created: boolean[] },
      { items: { content: string }[] },
    ];
    assert.equal(saved.ids.length, 3);
    assert.deepEqual(saved.created, [true, true, true]);
    assert.equal(listed.items.length, 3);
    // A reader takes a moment here: the next answers assume the memories are indexed.
    const key = (await shell.paste('printf "%s\\n" "$API_KEY"')).stdout.trim();
    await waitUntilIndexed(`http://127.0.0.1:${port}`, key);
  });

  it('answers the context of a message with the sister first', async () => {
    const [answer] = jsonAnswers(await pasteNext()) as {
      context: string;
      memories: { content: string }[];
    }[];
    assert.match(answer?.context ?? '', /Lena lives in Porto/);
    assert.match(answer?.memories[0]?.content ?? '', /Lena/);
  });

  it('searches by meaning: the marathon first for "running a race"', async () => {
    const [answer] = jsonAnswers(await pasteNext()) as { results: { content: string }[] }[];
    assert.match(answer?.results[0]?.content ?? '', /half marathon/);
  });

  it('answers an MCP tool call with the same memories', async () => {
    const [answer] = jsonAnswers(await pasteNext()) as {
      result?: { content: { text: string }[]; isError?: boolean };
    }[];
    assert.notEqual(answer?.result?.isError, true, JSON.stringify(answer));
    assert.match(answer?.result?.content[0]?.text ?? '', /half marathon/);
  });

  it('stops on Ctrl-C, with the PostgreSQL and Temporal it started', async () => {
    await pressCtrlC(product.child);
    await assert.rejects(
      fs.access(path.join(dataDir.path, 'postgres', 'cluster', 'postmaster.pid')),
      `PostgreSQL shut down cleanly:\n${product.output()}`,
    );
    assert.equal(await portOpen(temporalPort), false, 'the Temporal dev server stopped');
  });

  it('has checked every quickstart block of the README', () => {
    assert.equal(
      answers.length,
      blocks.length,
      'a quickstart block was added to the README: check its answer here too',
    );
  });
});

/** Polls the listing until every memory is indexed (at most 60 s). */
async function waitUntilIndexed(base: string, key: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${base}/v1/memories`, { headers: { authorization: `Bearer ${key}` } });
    const page = (await res.json()) as { items: { index_state: string }[] };
    if (page.items.every((m) => m.index_state === 'indexed')) return;
    if (Date.now() > deadline) throw new Error(`not indexed: ${JSON.stringify(page)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
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

/**
 * Ctrl-C in the product's terminal: SIGINT to its whole group (npm, the launcher, the product);
 * the servers the product started run in groups of their own and are stopped by it, last.
 * SIGKILL after 60 s. (SIGTERM to npm alone would not do: npm's `sh -c` dies without relaying it.)
 */
async function pressCtrlC(child: ChildProcess): Promise<void> {
  const running = () => child.exitCode === null && child.signalCode === null;
  if (child.pid === undefined || !running()) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is already gone.
    }
  };
  signalGroup('SIGINT');
  const timer = setTimeout(() => signalGroup('SIGKILL'), 60_000);
  await exitOf(child);
  clearTimeout(timer);
}

/** Processes whose command line names `dir` (the run's PostgreSQL and Temporal dev server). */
async function processesUsing(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) pids.push(Number(entry));
  }
  return pids;
}

/** SIGTERM to every server still using `dir`, SIGKILL to those alive 15 s later. */
async function stopServersOf(dir: string): Promise<void> {
  const signal = (pids: number[], name: NodeJS.Signals) =>
    pids.forEach((pid) => {
      try {
        process.kill(pid, name);
      } catch {
        // Already gone.
      }
    });
  signal(await processesUsing(dir), 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while ((await processesUsing(dir)).length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  signal(await processesUsing(dir), 'SIGKILL');
}
