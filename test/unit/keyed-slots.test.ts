import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createKeyedSlots } from '../../core/concurrency/keyed-slots.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

it('lets `slots` holders of a key run at once; the next waits its turn, in order', async () => {
  const slots = createKeyedSlots({ slots: 2, queue: 10, waitMs: 60_000 });
  const a = (await slots.acquire('u'))!;
  const b = (await slots.acquire('u'))!;
  const order: string[] = [];
  const c = slots.acquire('u').then((release) => (order.push('c'), release));
  const d = slots.acquire('u').then((release) => (order.push('d'), release));
  await tick();
  assert.deepEqual(order, []);
  assert.deepEqual(slots.load('u'), { running: 2, waiting: 2 });
  a();
  a(); // a second call gives nothing back twice
  await tick();
  assert.deepEqual(order, ['c']);
  assert.deepEqual(slots.load('u'), { running: 2, waiting: 1 });
  b();
  await tick();
  assert.deepEqual(order, ['c', 'd']);
  (await c)!();
  (await d)!();
  assert.deepEqual(slots.load('u'), { running: 0, waiting: 0 });
});

it("never makes one key wait for another's holders", async () => {
  const slots = createKeyedSlots({ slots: 1, queue: 10, waitMs: 60_000 });
  const busy = (await slots.acquire('heavy'))!;
  const other = await slots.acquire('light');
  assert.ok(other, 'another key gets its slot at once');
  other();
  busy();
});

it('refuses past the queue bound and after the wait, and forgets a key no one holds', async () => {
  const slots = createKeyedSlots({ slots: 1, queue: 1, waitMs: 30 });
  const held = (await slots.acquire('u'))!;
  const waiting = slots.acquire('u');
  assert.equal(await slots.acquire('u'), null, 'the queue is full');
  assert.equal(await waiting, null, 'the wait ran out');
  assert.deepEqual(slots.load('u'), { running: 1, waiting: 0 });
  held();
  assert.deepEqual(slots.load('u'), { running: 0, waiting: 0 });
  const again = await slots.acquire('u');
  assert.ok(again);
  again();
});
