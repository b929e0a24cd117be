import { ensureTemporalCli } from '../dev/temporal-cli.ts';
import { projectRoot } from './stack.ts';

// `npm run setup`: install, once, what `npm start` needs beyond npm packages.
async function main() {
  const cliPath = await ensureTemporalCli({ projectRoot, log: (msg) => console.log(msg) });
  console.log(`Temporal CLI ready: ${cliPath}`);
}

main().catch((error: unknown) => {
  console.error(`setup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
