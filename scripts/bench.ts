// `npm run bench`: the /v1/context benchmark (bench/context-bench.ts), reached through
// the bootstrap so a fresh clone installs its packages first. Never part of `npm test`.
// `npm run bench -- --scenario mcp`: MCP get_context against POST /v1/context
// (bench/mcp-bench.ts). The scenario flag is taken out of argv before the script,
// which parses its own options strictly, is loaded.
const SCENARIOS = {
  context: '../bench/context-bench.ts',
  mcp: '../bench/mcp-bench.ts',
} as const;

let scenario = 'context';
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  if (arg === '--scenario' || arg.startsWith('--scenario=')) {
    const value = arg.includes('=') ? arg.slice('--scenario='.length) : args[i + 1];
    args.splice(i, arg.includes('=') ? 1 : 2);
    scenario = value ?? '';
    break;
  }
}
if (!Object.hasOwn(SCENARIOS, scenario)) {
  console.error(`unknown --scenario ${scenario}: expected ${Object.keys(SCENARIOS).join(' or ')}`);
  process.exit(2);
}
process.argv.splice(2, process.argv.length - 2, ...args);
await import(SCENARIOS[scenario as keyof typeof SCENARIOS]);
