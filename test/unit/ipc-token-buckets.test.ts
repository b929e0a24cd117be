import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  createTokenBucketClient,
  createTokenBucketServer,
  parentPeer,
  type IpcPeer,
  type SharedBucketPolicies,
} from '../../infra/cluster/ipc-token-buckets.ts';

const POLICIES: SharedBucketPolicies = {
  user: { perSecond: 5, burst: 10 },
  planning: { perSecond: 5, burst: 10 },
};

/** What the test asks a child: take `n` tokens at once from `bucket`, and report how many it got. */
interface Burst {
  burst: 'user' | 'planning';
  n: number;
}

// This file is also the child: forked with CHILD set, it runs a client over its IPC channel.
if (process.env.IPC_BUCKETS_CHILD) {
  const peer = parentPeer();
  if (!peer) throw new Error('forked without an IPC channel');
  const client = createTokenBucketClient({ peer, policies: POLICIES, timeoutMs: 2000 });
  process.on('message', (message: unknown) => {
    const ask = message as Partial<Burst>;
    if (!ask.burst || !ask.n) return;
    const takes = Array.from({ length: ask.n }, async () =>
      ask.burst === 'user'
        ? (await client.users.take('alice')).allowed
        : await client.planning.take(0),
    );
    void Promise.all(takes).then((results) => {
      const reply = {
        allowed: results.filter(Boolean).length,
        fallbacks: client.users.fallbacks() + client.planning.fallbacks(),
      };
      process.send?.(reply);
    });
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ started: true });
} else {
  describe('token buckets a parent holds for its children over IPC', () => {
    const children: ChildProcess[] = [];

    // The channel also carries the children's bucket requests: wait for the report.
    const burst = (child: ChildProcess, ask: Burst) =>
      new Promise<{ allowed: number; fallbacks: number }>((resolve) => {
        const onMessage = (message: { allowed?: number; fallbacks?: number }) => {
          if (message.allowed === undefined || message.fallbacks === undefined) return;
          child.off('message', onMessage);
          resolve({ allowed: message.allowed, fallbacks: message.fallbacks });
        };
        child.on('message', onMessage);
        child.send(ask);
      });

    before(async () => {
      for (let i = 0; i < 2; i++) {
        const child = fork(fileURLToPath(import.meta.url), [], {
          env: { ...process.env, IPC_BUCKETS_CHILD: '1' },
          execArgv: ['--import', 'tsx'],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        await once(child, 'message');
        children.push(child);
      }
    });

    after(async () => {
      for (const child of children) {
        child.disconnect();
        if (child.exitCode === null) await once(child, 'exit');
      }
    });

    it('lets two children sharing a 5/s, burst 10 bucket take 10 at once in total, not 20', async () => {
      const server = createTokenBucketServer(POLICIES);
      const detach = children.map((child) => server.serve(child));
      try {
        const [a, b] = await Promise.all(
          children.map((child) => burst(child, { burst: 'user', n: 10 })),
        );
        assert.equal(a!.allowed + b!.allowed, 10, `allowed ${a!.allowed} + ${b!.allowed}`);
        assert.equal(a!.fallbacks + b!.fallbacks, 0);
        // The planning bucket is one as well.
        const [c, d] = await Promise.all(
          children.map((child) => burst(child, { burst: 'planning', n: 10 })),
        );
        assert.equal(c!.allowed + d!.allowed, 10, `granted ${c!.allowed} + ${d!.allowed}`);
      } finally {
        for (const stop of detach) stop();
      }
    });

    it('gives one child alone the whole burst of a fresh bucket, and no more', async () => {
      const server = createTokenBucketServer(POLICIES);
      const stop = server.serve(children[0]!);
      try {
        const got = await burst(children[0]!, { burst: 'user', n: 12 });
        assert.equal(got.allowed, 10);
        assert.equal(got.fallbacks, 0);
      } finally {
        stop();
      }
    });
  });

  describe('a child whose parent does not answer', () => {
    /** A channel to a parent that never replies (busy, or gone without closing it). */
    function silentParent(): IpcPeer & { sent: number } {
      const peer = {
        sent: 0,
        send: () => {
          peer.sent++;
          return true;
        },
        on: () => peer,
        off: () => peer,
      };
      return peer;
    }

    it('decides locally after the timeout, with one warning per outage', async () => {
      const peer = silentParent();
      const warnings: Error[] = [];
      const client = createTokenBucketClient({
        peer,
        policies: POLICIES,
        timeoutMs: 20,
        onFallback: (error) => warnings.push(error),
      });
      const started = performance.now();
      const decisions = await Promise.all(
        Array.from({ length: 12 }, () => client.users.take('bob')),
      );
      assert.ok(performance.now() - started < 1000);
      assert.equal(decisions.filter((d) => d.allowed).length, 10, 'the local bucket limits');
      assert.equal(client.users.fallbacks(), 12);
      assert.equal(await client.planning.take(10), true);
      assert.equal(client.planning.fallbacks(), 1);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!.message, /did not answer within 20 ms/);
      client.close();
    });

    it('keeps at most maxPending requests waiting and decides the rest at once', async () => {
      const peer = silentParent();
      const client = createTokenBucketClient({
        peer,
        policies: POLICIES,
        timeoutMs: 50,
        maxPending: 3,
      });
      const takes = Array.from({ length: 8 }, () => client.users.take('carol'));
      assert.equal(peer.sent, 3, 'only 3 requests went to the parent');
      await Promise.all(takes);
      assert.equal(client.users.fallbacks(), 8);
      client.close();
    });

    it('decides locally when the channel is closed', async () => {
      const peer: IpcPeer = {
        send: (_message, callback) => {
          callback(new Error('Channel closed'));
          return false;
        },
        on: () => undefined,
        off: () => undefined,
      };
      const client = createTokenBucketClient({ peer, policies: POLICIES, timeoutMs: 5000 });
      const started = performance.now();
      const decision = await client.users.take('dave');
      assert.equal(decision.allowed, true);
      assert.ok(performance.now() - started < 1000, 'no wait for the timeout');
      client.close();
    });
  });
}
