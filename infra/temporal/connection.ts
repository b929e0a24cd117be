import fs from 'node:fs';
import { Connection, Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config.ts';

type TemporalSettings = Pick<
  Config,
  | 'temporalAddress'
  | 'TEMPORAL_NAMESPACE'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CERT_PATH'
  | 'TEMPORAL_TLS_KEY_PATH'
  | 'TEMPORAL_API_KEY'
>;

function tlsOptions(config: TemporalSettings) {
  if (config.TEMPORAL_TLS_CERT_PATH && config.TEMPORAL_TLS_KEY_PATH) {
    return {
      clientCertPair: {
        crt: fs.readFileSync(config.TEMPORAL_TLS_CERT_PATH),
        key: fs.readFileSync(config.TEMPORAL_TLS_KEY_PATH),
      },
    };
  }
  // Temporal Cloud with an API key always speaks TLS.
  return config.TEMPORAL_TLS || config.TEMPORAL_API_KEY ? true : undefined;
}

function connectionOptions(config: TemporalSettings) {
  const tls = tlsOptions(config);
  return {
    address: config.temporalAddress,
    ...(tls ? { tls } : {}),
    ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}),
  };
}

/** A workflow client on an eager connection; fails fast when Temporal is not there. */
export async function createTemporalClient(
  config: TemporalSettings,
): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({
    ...connectionOptions(config),
    connectTimeout: '5 seconds',
  });
  return { connection, client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }) };
}

/** The worker's native connection to the same server. */
export function createWorkerConnection(config: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config));
}

/**
 * A connection for health probes only: lazy, and without the SDK's retry
 * interceptor, so a probe of a dead server fails once instead of leaving
 * retries scheduled that would outlive the connection when it closes.
 */
export function createTemporalProbe(config: TemporalSettings): Connection {
  return Connection.lazy({ ...connectionOptions(config), interceptors: [] });
}

/** Resolves when the Temporal frontend answers within `timeoutMs`. */
export async function pingTemporal(connection: Connection, timeoutMs: number): Promise<void> {
  await connection.withDeadline(Date.now() + timeoutMs, () =>
    connection.workflowService.getSystemInfo({}),
  );
}
