import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RelationalStore } from '../../core/ports/relational-store.ts';

const DAY = 24 * 3600 * 1000;
const past = (ms = 1000) => new Date(Date.now() - ms);
const future = (ms = DAY) => new Date(Date.now() + ms);

/**
 * The relational store's contract for a memory's life in time: when its event
 * happened (`occurredAt`) and when it stops existing (`expiresAt`). Called
 * inside the relational-store contract, so every adapter runs it.
 */
export function lifecycleCases(store: RelationalStore): void {
  it('dates an event at the save time unless told, and keeps a given event time', async () => {
    const user = await store.createUser({});
    const [plain, dated] = await store.insertMemories(user.id, [
      { content: 'had coffee' },
      { content: 'graduated from university', occurredAt: new Date('2011-06-30T15:00:00Z') },
    ]);
    assert.equal(plain!.memory.occurredAt.getTime(), plain!.memory.createdAt.getTime());
    assert.equal(plain!.memory.expiresAt, null);
    const read = await store.getMemory(user.id, dated!.memory.id);
    assert.equal(read?.occurredAt.toISOString(), '2011-06-30T15:00:00.000Z');
    assert.ok(read!.createdAt.getTime() > read!.occurredAt.getTime());
  });

  it('keeps the event time and expiry through edits that do not name them, and changes them when named', async () => {
    const user = await store.createUser({});
    const expiresAt = future();
    const { memory } = await store.insertMemory(user.id, {
      content: 'trip to Japan',
      occurredAt: new Date('2024-04-01T00:00:00Z'),
      expiresAt,
    });
    const edited = await store.updateMemory(user.id, memory.id, {
      content: 'trip to Japan and Korea',
      tags: ['travel'],
      state: 'archived',
    });
    assert.equal(edited?.occurredAt.toISOString(), '2024-04-01T00:00:00.000Z');
    assert.equal(edited?.expiresAt?.getTime(), expiresAt.getTime());
    const moved = await store.updateMemory(user.id, memory.id, {
      occurredAt: new Date('2024-05-01T00:00:00Z'),
      expiresAt: null,
    });
    assert.equal(moved?.occurredAt.toISOString(), '2024-05-01T00:00:00.000Z');
    assert.equal(moved?.expiresAt, null);
    assert.equal(moved?.content, 'trip to Japan and Korea');
  });

  it('filters a listing by event time, from inclusive and to exclusive, and orders recent memories by it', async () => {
    const user = await store.createUser({});
    const at = (iso: string) => new Date(iso);
    const save = async (content: string, occurredAt: string) =>
      (await store.insertMemory(user.id, { content, occurredAt: at(occurredAt) })).memory.id;
    const y2019 = await save('moved to Porto', '2019-03-01T00:00:00Z');
    const y2021 = await save('moved to Lisbon', '2021-03-01T00:00:00Z');
    const y2023 = await save('started a new job', '2023-03-01T00:00:00Z');
    await sleep(2);
    const now = await save('ate lunch', new Date().toISOString());

    const ranged = await store.listMemories(user.id, {
      limit: 10,
      from: at('2019-03-01T00:00:00Z'),
      to: at('2023-03-01T00:00:00Z'),
    });
    // Listed newest saved first; the range reads the event time, not the save time.
    assert.deepEqual(
      ranged.items.map((m) => m.id),
      [y2021, y2019],
    );
    assert.deepEqual(
      (await store.recentMemories(user.id, 10)).map((m) => m.id),
      [now, y2023, y2021, y2019],
    );
  });

  it('hides an expired memory from every read, search and edit at once', async () => {
    const user = await store.createUser({});
    const live = await store.insertMemory(user.id, { content: 'Gate code is 4411 this week' });
    const soon = await store.insertMemory(user.id, {
      content: 'Gate code is 9982 until Friday',
      expiresAt: future(400),
    });
    const id = soon.memory.id;
    assert.equal((await store.getMemory(user.id, id))?.id, id);
    await sleep(600);

    assert.equal(await store.getMemory(user.id, id), null);
    assert.deepEqual(await store.getMemories(user.id, [id, live.memory.id]), [
      await store.getMemory(user.id, live.memory.id),
    ]);
    const listed = await store.listMemories(user.id, { limit: 10 });
    assert.deepEqual(
      listed.items.map((m) => m.id),
      [live.memory.id],
    );
    assert.deepEqual(
      (await store.recentMemories(user.id, 10)).map((m) => m.id),
      [live.memory.id],
    );
    const [hits] = await store.searchText([{ userId: user.id, query: 'gate code', limit: 10 }]);
    assert.deepEqual(
      hits!.map((h) => h.id),
      [live.memory.id],
    );
    const pages = await store.pageActiveMemories(user.id, { limit: 10 });
    assert.deepEqual(
      pages.map((m) => m.id),
      [live.memory.id],
    );
    assert.equal(await store.updateMemory(user.id, id, { state: 'archived' }), null);
    // Its row goes when deleted, but for the caller there was nothing there.
    assert.equal(await store.deleteMemory(user.id, id), false);
  });

  it('stores a new memory when content whose memory expired is saved or edited in again', async () => {
    const user = await store.createUser({});
    const expired = await store.insertMemory(user.id, {
      content: 'On holiday in Crete',
      expiresAt: past(),
    });
    const again = await store.insertMemory(user.id, { content: 'on holiday in  crete' });
    assert.equal(again.created, true);
    assert.notEqual(again.memory.id, expired.memory.id);

    const other = await store.insertMemory(user.id, {
      content: 'Parked on level 3',
      expiresAt: past(),
    });
    const draft = await store.insertMemory(user.id, { content: 'Parked somewhere' });
    const edited = await store.updateMemory(user.id, draft.memory.id, {
      content: 'parked on level 3',
    });
    assert.equal(edited?.content, 'parked on level 3');
    assert.equal(await store.getMemory(user.id, other.memory.id), null);
  });

  it('purges expired memories a page at a time with tombstones, judged by the given time', async () => {
    const user = await store.createUser({});
    const other = await store.createUser({});
    const expired = await store.insertMemories(user.id, [
      { content: 'expired one', expiresAt: past(60_000) },
      { content: 'expired two', expiresAt: past(30_000) },
      { content: 'expired three', expiresAt: past(10_000) },
    ]);
    const later = await store.insertMemory(user.id, { content: 'later', expiresAt: future() });
    const keeper = await store.insertMemory(user.id, { content: 'keeper' });
    const theirs = await store.insertMemory(other.id, { content: 'theirs', expiresAt: past() });
    const version = (await store.getUser(user.id))!.dataVersion;

    const first = await store.purgeExpiredMemories(user.id, { now: new Date(), limit: 2 });
    const second = await store.purgeExpiredMemories(user.id, { now: new Date(), limit: 2 });
    const ids = expired.map((r) => r.memory.id).sort();
    assert.deepEqual([...first, ...second].sort(), ids);
    assert.equal(first.length, 2);
    assert.deepEqual(first, [...first].sort(), 'in id order');
    assert.deepEqual(await store.purgeExpiredMemories(user.id, { now: new Date(), limit: 2 }), []);
    assert.equal((await store.getUser(user.id))!.dataVersion, version + 2, 'once per page');

    const tasks = await store.staleIndexTasks(0, 1000);
    const tombstones = tasks.filter((t) => t.deleted && t.userId === user.id);
    assert.deepEqual(tombstones.map((t) => t.memoryId).sort(), ids);
    for (const id of ids) await store.clearTombstone(id);

    // A run's clock decides: by a time a day and a bit ahead, the later one has expired too.
    const ahead = new Date(Date.now() + DAY + 60_000);
    assert.deepEqual(await store.purgeExpiredMemories(user.id, { now: ahead, limit: 10 }), [
      later.memory.id,
    ]);
    assert.ok(await store.getMemory(user.id, keeper.memory.id));
    assert.deepEqual(
      (await store.listMemories(user.id, { limit: 10 })).items.map((m) => m.id),
      [keeper.memory.id],
    );
    assert.deepEqual(await store.purgeExpiredMemories('not-a-uuid', { now: ahead, limit: 10 }), []);
    assert.deepEqual(await store.purgeExpiredMemories(other.id, { now: new Date(), limit: 10 }), [
      theirs.memory.id,
    ]);
  });

  it('leaves an expired pending memory out of stale index work', async () => {
    const user = await store.createUser({});
    const gone = await store.insertMemory(user.id, { content: 'short-lived', expiresAt: past() });
    const kept = await store.insertMemory(user.id, { content: 'long-lived' });
    const tasks = (await store.staleIndexTasks(0, 1000)).filter((t) => t.userId === user.id);
    assert.deepEqual(
      tasks.map((t) => t.memoryId),
      [kept.memory.id],
    );
    assert.ok(!tasks.some((t) => t.memoryId === gone.memory.id));
  });
}
