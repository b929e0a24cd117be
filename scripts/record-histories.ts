import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../infra/logger.ts';
import { projectRoot } from '../infra/project-root.ts';
import { ensureTemporalCli } from '../infra/temporal/temporal-cli.ts';
import { installTemporalRuntime } from '../infra/temporal/runtime-logger.ts';
import { freePort, startTemporalDevServer } from '../infra/temporal/temporal-dev-server.ts';
import {
  HISTORIES_DIR,
  PRODUCT_WORKFLOWS,
  startRecorder,
  VERSIONING_DIR,
  writeHistory,
} from '../test/support/workflow-histories.ts';
import {
  indexReconcilerRun,
  SCENARIOS,
  type Recorded,
} from '../test/support/workflow-histories-scenarios.ts';

// `node scripts/bootstrap.mjs record-histories [scenario...]`: runs the named
// scenarios (default: all, see SCENARIOS, plus `versioning`) on a real Temporal
// server (TEST_TEMPORAL_ADDRESS, else a dev server started here) with the workflow
// code as it is now, and writes the histories that
// test/integration/workflow-replay.test.ts replays to test/fixtures/histories/.
// Files of the same name are replaced; others (histories of older code) are kept.

const PATCHED_RECONCILER = fileURLToPath(
  new URL(
    '../test/fixtures/histories/versioning/reconciler-pause-patched.workflow.ts',
    import.meta.url,
  ),
);

async function recordScenarios(address: string, names: string[]): Promise<void> {
  const product = await startRecorder(address, PRODUCT_WORKFLOWS, names);
  let recorded: Recorded = {};
  try {
    // One after another: the scheduler scenarios share the stub memory reading.
    for (const name of names) recorded = { ...recorded, ...(await SCENARIOS[name]!(product)) };
  } finally {
    await product.stop();
  }
  for (const [name, history] of Object.entries(recorded)) {
    await writeHistory(HISTORIES_DIR, name, history);
    console.log(`recorded ${name} (${history.events?.length ?? 0} events)`);
  }
}

/** A run on the code after the versioning example's change, with its patch marker. */
async function recordVersioning(address: string): Promise<void> {
  const patched = await startRecorder(address, PATCHED_RECONCILER, ['scheduled']);
  try {
    const [history] = Object.values(await indexReconcilerRun(patched));
    await writeHistory(VERSIONING_DIR, 'index-reconciler--after-pause-patch', history!);
    console.log('recorded versioning/index-reconciler--after-pause-patch');
  } finally {
    await patched.stop();
  }
}

async function record(address: string, chosen: string[]): Promise<void> {
  const scenarios = chosen.filter((name) => name !== 'versioning');
  if (scenarios.length > 0) await recordScenarios(address, scenarios);
  if (chosen.includes('versioning')) await recordVersioning(address);
  console.log(`histories in ${path.relative(projectRoot, HISTORIES_DIR)}`);
}

async function main() {
  const known = [...Object.keys(SCENARIOS), 'versioning'];
  const args = process.argv.slice(2);
  const chosen = args.length > 0 ? args : known;
  const unknown = chosen.filter((name) => !known.includes(name));
  if (unknown.length > 0)
    throw new Error(`unknown scenario ${unknown.join(', ')}: one of ${known.join(', ')}`);
  installTemporalRuntime(createLogger('error'));
  const given = process.env.TEST_TEMPORAL_ADDRESS;
  if (given) return record(given, chosen);
  const server = await startTemporalDevServer({
    cliPath: await ensureTemporalCli({ projectRoot, log: console.log }),
    port: await freePort(),
    uiPort: await freePort(),
    log: console.log,
  });
  try {
    await record(server.address, chosen);
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`recording failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
