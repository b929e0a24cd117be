#!/usr/bin/env node
// The memory-engine command. `memory-engine mcp --url <api url> --key <api key>` speaks MCP
// over stdio and forwards to a running server's /mcp (the key may come from
// MEMORY_ENGINE_API_KEY instead). The TypeScript sources run through the package's own tsx.
import { tsImport } from 'tsx/esm/api';

const [command, ...rest] = process.argv.slice(2);

if (command === 'mcp') {
  const bridge = await tsImport('../api/mcp/stdio-bridge.ts', import.meta.url);
  // Exit once the bridge is done: nothing else should keep the process alive.
  process.exit(await bridge.main(rest));
} else {
  process.stderr.write(
    'usage: memory-engine mcp [--url <api url>] [--key <api key>]\n' +
      '  speaks MCP over stdio, forwarding to <api url>/mcp; the key may come from MEMORY_ENGINE_API_KEY\n',
  );
  process.exitCode = command === undefined || command === '--help' || command === 'help' ? 0 : 2;
}
