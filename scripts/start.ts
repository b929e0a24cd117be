import { runStack } from '../app/run-stack.ts';

async function main() {
  await runStack('all');
}

main().catch((error: unknown) => {
  console.error(`memory-engine: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
