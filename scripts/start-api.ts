import { runStack } from '../app/run-stack.ts';

async function main() {
  await runStack('api');
}

main().catch((error: unknown) => {
  console.error(`memory-engine api: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
