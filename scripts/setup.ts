import { ensureTemporalCli } from '../infra/temporal/temporal-cli.ts';
import { ensureMiniLmModel } from '../infra/local/minilm/install.ts';
import { projectRoot } from '../infra/project-root.ts';

// `npm run setup`: install, once, what `npm start` needs beyond npm packages.
async function main() {
  const log = (msg: string) => console.log(msg);
  const cliPath = await ensureTemporalCli({ projectRoot, log });
  console.log(`Temporal CLI ready: ${cliPath}`);
  const minilm = await ensureMiniLmModel({ projectRoot, log });
  console.log(`MiniLM sentence model ready: ${minilm.modelPath}`);
}

main().catch((error: unknown) => {
  console.error(`setup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
