import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../core/errors.ts';
import { isLoopbackHost } from '../../infra/config-fields.ts';

export interface McpOriginPolicy {
  /** Browser origins allowed besides loopback ones, such as `https://chat.example.com`. */
  allowedOrigins?: readonly string[];
  /** Host names the server answers to besides loopback ones and the allowed origins' hosts. */
  allowedHosts?: readonly string[];
  /** The address the API listens on: answered to as well, unless it is a wildcard. */
  serverHost?: string;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** The host name of a `Host` header (port dropped, IPv6 kept in brackets), or null. */
function hostnameOf(host: string | undefined): string | null {
  // Only host[:port]: anything URL syntax would read past (user info, a path) is refused.
  if (!host || /[@/\\?#\s]/.test(host)) return null;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return null;
  }
}

const shown = (value: string) => JSON.stringify(value.slice(0, 200));

/**
 * DNS-rebinding protection for `/mcp`, as the MCP Streamable HTTP transport
 * asks of servers: a request whose `Host` is not a name this server answers
 * to, or whose `Origin` is present and foreign, is refused with a 403 before
 * it is authenticated. Requests without `Origin` (non-browser clients) pass
 * the origin check; loopback origins and hosts always pass.
 */
export function mcpOriginGuard(policy: McpOriginPolicy = {}) {
  const origins = new Set<string>();
  const hosts = new Set<string>();
  for (const origin of policy.allowedOrigins ?? []) {
    const url = new URL(origin);
    origins.add(url.origin);
    hosts.add(url.hostname);
  }
  for (const host of policy.allowedHosts ?? []) {
    const name = hostnameOf(host);
    if (name) hosts.add(name);
  }
  const server = policy.serverHost && hostnameOf(policy.serverHost);
  if (server && !WILDCARDS.has(server)) hosts.add(server);

  const originAllowed = (origin: string) => {
    if (origins.has(origin)) return true;
    try {
      const url = new URL(origin);
      return (
        (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname)
      );
    } catch {
      return false;
    }
  };

  return (req: Request, _res: Response, next: NextFunction) => {
    const host = hostnameOf(req.headers.host);
    if (!host || !(isLoopbackHost(host) || hosts.has(host))) {
      throw new AppError(
        'forbidden',
        `Host ${shown(req.headers.host ?? '')} is not a name this server answers to on /mcp; ` +
          'add it to MCP_ALLOWED_HOSTS',
      );
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(origin)) {
      throw new AppError(
        'forbidden',
        `Origin ${shown(origin)} may not call /mcp; add it to MCP_ALLOWED_ORIGINS`,
      );
    }
    next();
  };
}
