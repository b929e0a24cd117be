/** Hosts a load test may target: this machine only (a load test is an attack elsewhere). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * Why `raw` is not a valid load-test target (an http(s) URL on a loopback
 * host), or null when it is.
 */
export function loadTestTargetProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `target ${JSON.stringify(raw)} is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `target must be http(s), got ${url.protocol}`;
  }
  if (!LOOPBACK_HOSTS.has(url.hostname)) {
    return `target host must be loopback (127.0.0.1, localhost, ::1), got ${url.hostname}`;
  }
  return null;
}
