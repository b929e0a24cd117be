import fc from 'fast-check';
import { hostileString, hostileValue, SchemaValues, type JsonSchema } from './fuzz-values.ts';
import { rawBody, type FuzzRequest } from './fuzz-wire.ts';

/** A tool as MCP `tools/list` shows it. */
export interface ListedTool {
  name: string;
  inputSchema: JsonSchema;
}

const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

const rpc = (message: unknown) => JSON.stringify(message) ?? 'null';

/** Stateless `tools/call` requests for `tool`, arguments from its input schema: valid-ish, mutated or hostile. */
export function toolCalls(tool: ListedTool, key: fc.Arbitrary<string>): fc.Arbitrary<FuzzRequest> {
  const values = new SchemaValues(tool.inputSchema);
  const args = fc.oneof(
    { weight: 3, arbitrary: values.valid(tool.inputSchema) },
    { weight: 4, arbitrary: values.mutated(tool.inputSchema) },
    { weight: 1, arbitrary: hostileValue },
  );
  return fc.record({ args, id: fc.nat(), key }).map(({ args, id, key }) => ({
    target: `mcp tools/call ${tool.name}`,
    method: 'POST',
    path: '/mcp?stateless',
    headers: { ...MCP_HEADERS, authorization: key },
    body: rpc({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: tool.name, arguments: args },
    }),
  }));
}

/** JSON-RPC that is odd rather than a tool call: unknown methods and tools, bad envelopes, batches. */
export function oddMcp(key: fc.Arbitrary<string>): fc.Arbitrary<FuzzRequest> {
  const message = fc.oneof(
    fc.constantFrom(
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { jsonrpc: '2.0', id: 1, method: 'no/such/method' },
      { jsonrpc: '1.0', id: 1, method: 'tools/list' },
      { jsonrpc: '2.0', id: {}, method: 'tools/call', params: 'x' },
      { jsonrpc: '2.0', method: 'tools/call', params: { name: 'remember', arguments: {} } },
      [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, 7],
      [],
    ),
    fc.record({ name: hostileString, arguments: hostileValue }).map((params) => ({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params,
    })),
  );
  return fc
    .record({
      body: fc.oneof({ weight: 3, arbitrary: message.map(rpc) }, { weight: 1, arbitrary: rawBody }),
      key,
      session: fc.option(fc.uuid(), { freq: 4 }),
    })
    .map(({ body, key, session }) => ({
      target: 'mcp other',
      method: session ? 'DELETE' : 'POST',
      path: session ? '/mcp' : '/mcp?stateless',
      headers: {
        ...MCP_HEADERS,
        authorization: key,
        ...(session ? { 'mcp-session-id': session } : {}),
      },
      ...(session ? {} : { body }),
    }));
}
