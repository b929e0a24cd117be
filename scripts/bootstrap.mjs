// scripts/: the command-line entry points behind the npm scripts. Each is an
// `async function main()` with one `.catch`; they start app/ or drive a running
// product, and may import anything. Nothing in the product imports scripts/.
//
// Entry of `npm start` / `npm test` / `npm run bench`: plain JavaScript so it runs on
// a fresh clone before any dependency is installed. It installs the npm packages
// when they are missing or out of date with package-lock.json, then hands over to
// the TypeScript script named on the command line.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 3)) {
  console.error(`memory-engine needs Node.js 20.3 or newer; this is ${process.version}`);
  process.exit(1);
}

const script = process.argv[2];
if (!script || !/^[a-z][a-z0-9-]*$/.test(script)) {
  console.error('usage: node scripts/bootstrap.mjs <script> [args...]');
  process.exit(2);
}

const lockFile = path.join(root, 'package-lock.json');
const stampFile = path.join(root, 'node_modules', '.memory-engine-lock-hash');
const lockHash = createHash('sha256').update(fs.readFileSync(lockFile)).digest('hex');
const stamp = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8').trim() : '';
if (stamp !== lockHash) {
  console.log('memory-engine: installing npm packages (npm ci)…');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  if (result.status !== 0) {
    console.error('memory-engine: npm ci failed');
    process.exit(result.status ?? 1);
  }
  fs.writeFileSync(stampFile, `${lockHash}\n`);
}

// The product's process gets the V8 heap limit of the 2 GB budget (NODE_HEAP_MB, validated
// again by the configuration schema, which refuses a malformed value with a clear message).
const env = { ...process.env };
if (script === 'start') {
  const heapMb = process.env.NODE_HEAP_MB?.trim() || '1024';
  if (/^[1-9][0-9]*$/.test(heapMb)) {
    env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${heapMb}`.trim();
  }
}

// `node --import tsx`, not the `tsx` command: that wrapper relays signals itself and, given
// a second one (the terminal's Ctrl-C reaches the whole group, and this launcher relays it
// too), kills the product with SIGKILL mid-shutdown, orphaning PostgreSQL and the dev server.
const tsxLoader = import.meta.resolve('tsx');
const child = spawn(
  process.execPath,
  ['--import', tsxLoader, path.join(root, 'scripts', `${script}.ts`), ...process.argv.slice(3)],
  { cwd: process.cwd(), stdio: 'inherit', env },
);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 1)));
