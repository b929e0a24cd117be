// The operational routes have no zod schema in api/ (they are not in /openapi.json):
// these types follow api/health.routes.ts.

/** `GET /healthz`. */
export interface Health {
  status: 'ok';
  uptime_s: number;
}

/** One dependency's readiness check. */
export interface ReadinessCheckResult {
  ok: boolean;
  ms: number;
  /** `timeout`, `unavailable`, or a state the dependency reports (`restarting`). */
  error?: string;
}

/** `GET /readyz`: 200 `ready`, or 503 `unavailable` naming what is down. */
export interface Readiness {
  status: 'ready' | 'unavailable';
  down?: string[];
  message?: string;
  checks: Record<string, ReadinessCheckResult>;
}
