/** Posts JSON to a webhook, fire-and-forget: every failure goes to `onFailure`, none is thrown. */
export interface AlertWebhook {
  post(payload: unknown): void;
  /** Resolves once every POST started so far has settled. */
  flush(): Promise<void>;
}

/**
 * A webhook poster with a per-request timeout. A slow or dead receiver costs
 * one pending request per alert, never a blocked sample or a thrown error.
 */
export function createAlertWebhook(options: {
  url: string;
  timeoutMs: number;
  onFailure: (error: unknown) => void;
}): AlertWebhook {
  const pending = new Set<Promise<void>>();
  return {
    post(payload) {
      const sent: Promise<void> = fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(options.timeoutMs),
      })
        .then(async (res) => {
          await res.body?.cancel();
          if (!res.ok) throw new Error(`webhook answered ${res.status}`);
        })
        .catch((error: unknown) => options.onFailure(error))
        .finally(() => pending.delete(sent));
      pending.add(sent);
    },
    async flush() {
      while (pending.size > 0) await Promise.all(pending);
    },
  };
}
