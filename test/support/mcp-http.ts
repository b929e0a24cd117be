/**
 * A stateless MCP `tools/list` on `/mcp`, as a client that keeps no session
 * sends it (the raw response, for tests that read its status and headers).
 */
export function postToolsList(baseUrl: string, key: string): Promise<Response> {
  return fetch(`${baseUrl}/mcp?stateless`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
}
