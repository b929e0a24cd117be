import { ensureTemporalCli } from '../infra/temporal/temporal-cli.ts';
import { ensureE5Model } from '../infra/local/e5/install.ts';
import { ensureMiniLmModel } from '../infra/local/minilm/install.ts';
import { projectRoot } from '../infra/project-root.ts';

// `npm run setup`: install, once, what `npm start` needs beyond npm packages.
async function main() {
  const log = (msg: string) => console.log(msg);
  const cliPath = await ensureTemporalCli({ projectRoot, log });
  console.log(`Temporal CLI ready: ${cliPath}`);
  const e5 = await ensureE5Model({ projectRoot, log });
  console.log(`e5-small-v2 sentence model (the default) ready: ${e5.modelPath}`);
  // MiniLM: for EMBEDDER=minilm, and so that a store indexed with it keeps serving
  // searches from its old space while it moves to e5.
  const minilm = await ensureMiniLmModel({ projectRoot, log });
  console.log(`MiniLM sentence model ready: ${minilm.modelPath}`);
}

main().catch((error: unknown) => {
  console.error(`setup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
