import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServiceProcess } from '../../infra/process/service-tools.ts';
import { superviseService, type ServiceRun } from '../../infra/process/supervisor.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import { eventually } from '../support/test-api.ts';

const backoff = { initialMs: 50, maxMs: 200 };
const quiet = () => {};

describe('a supervised child process', () => {
  let dir: TempDir;
  let attempts: number;
  let fails: (attempt: number) => boolean;

  before(async () => {
    dir = await createTempDir('supervisor-');
  });
  after(async () => {
    await dir.remove();
  });

  // A real long-running child; the attempts `fails` picks fail to start.
  const start = async (): Promise<ServiceRun> => {
    attempts++;
    if (fails(attempts)) throw new Error(`attempt ${attempts}: port busy`);
    const server = await startServiceProcess({
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      logFile: path.join(dir.path, 'child.log'),
      logFlags: 'a',
      stopGraceMs: 5_000,
    });
    return { pid: server.child.pid!, exited: server.exited, stop: server.stop };
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('is started again when it dies, even after a failed restart, and named while down', async () => {
    attempts = 0;
    fails = (attempt) => attempt === 2;
    const supervisor = await superviseService({ name: 'sleeper', start, backoff, log: quiet });
    try {
      const first = supervisor.status();
      assert.equal(first.state, 'running');
      process.kill(first.pid!, 'SIGKILL');
      await eventually('restarted', async () => supervisor.status().restarts === 1);
      const now = supervisor.status();
      assert.equal(now.state, 'running');
      assert.equal(attempts, 3);
      assert.notEqual(now.pid, first.pid);
      assert.ok(alive(now.pid!));
      assert.match(now.lastExit ?? '', /attempt 2: port busy/);
    } finally {
      await supervisor.stop();
    }
  });

  it('is not started again once stopped, including while it waits to restart', async () => {
    attempts = 0;
    fails = (attempt) => attempt > 1;
    const supervisor = await superviseService({ name: 'sleeper', start, backoff, log: quiet });
    const { pid } = supervisor.status();
    process.kill(pid!, 'SIGKILL');
    await eventually('a restart failed', async () => attempts >= 2);
    assert.equal(supervisor.status().state, 'restarting');
    await supervisor.stop();
    const stoppedAt = attempts;
    assert.equal(supervisor.status().state, 'stopped');
    // Several times the longest pause: a restart would have been attempted.
    await new Promise((r) => setTimeout(r, 4 * backoff.maxMs));
    assert.equal(attempts, stoppedAt);
  });

  it('doubles the pause while runs keep dying and resets it after a run that served long enough', async () => {
    attempts = 0;
    fails = () => false;
    const pauses: number[] = [];
    const supervisor = await superviseService({
      name: 'sleeper',
      start,
      backoff: { ...backoff, resetAfterMs: 3_000 },
      log: (_level, _msg, fields) => {
        if (typeof fields.delayMs === 'number') pauses.push(fields.delayMs);
      },
    });
    const killAndWait = async (restarts: number) => {
      process.kill(supervisor.status().pid!, 'SIGKILL');
      await eventually(
        `restart ${restarts}`,
        async () => supervisor.status().restarts === restarts,
      );
    };
    try {
      await killAndWait(1);
      await killAndWait(2);
      // Served longer than resetAfterMs: the next pause starts over.
      await new Promise((r) => setTimeout(r, 3_500));
      await killAndWait(3);
      assert.deepEqual(pauses, [50, 100, 50]);
    } finally {
      await supervisor.stop();
    }
  });

  it('stops a healthy child on stop() without starting another', async () => {
    attempts = 0;
    fails = () => false;
    const supervisor = await superviseService({ name: 'sleeper', start, backoff, log: quiet });
    const { pid } = supervisor.status();
    await supervisor.stop();
    assert.equal(alive(pid!), false);
    await new Promise((r) => setTimeout(r, 4 * backoff.maxMs));
    assert.equal(attempts, 1);
    assert.equal(supervisor.status().state, 'stopped');
  });
});
