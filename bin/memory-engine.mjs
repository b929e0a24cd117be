#!/usr/bin/env node
// The memory-engine command. `memory-engine mcp --url <api url> --key <api key>` speaks MCP
// over stdio and forwards to a running server's /mcp (the key may come from
// MEMORY_ENGINE_API_KEY instead). Every other verb (remember, search, context, list,
// forget, users create, keys issue|revoke, loadtest, narratives, consolidate, selfcheck, …)
// is in cli/main.ts, over the typed client in client/. The TypeScript sources run through
// the package's own tsx.
import { tsImport } from 'tsx/esm/api';

const [command, ...rest] = process.argv.slice(2);

if (command === 'mcp') {
  const bridge = await tsImport('../api/mcp/stdio-bridge.ts', import.meta.url);
  // Exit once the bridge is done: nothing else should keep the process alive.
  process.exit(await bridge.main(rest));
}

// `memory-engine admin-key` prints the admin key the first start generated in DATA_DIR (or
// ADMIN_API_KEY): no running API needed.
if (command === 'admin-key') {
  const adminKey = await tsImport('../app/admin-key.ts', import.meta.url);
  process.exit(await adminKey.adminKeyCommand(rest));
}

const cli = await tsImport('../cli/main.ts', import.meta.url);
process.exitCode = await cli.main(process.argv.slice(2));
