import { runStack } from '../app/run-stack.ts';

async function main() {
  await runStack('worker');
}

main().catch((error: unknown) => {
  console.error(`memory-engine worker: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
