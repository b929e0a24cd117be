import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { createPgliteDriver } from '../../infra/db/pglite-driver.ts';
import { createSqlRelationalStore } from '../../infra/db/sql-relational-store.ts';
import { relationalStoreContract } from '../contracts/relational-store.contract.ts';

relationalStoreContract('PGlite', async () =>
  createSqlRelationalStore(await createPgliteDriver('memory://')),
);

it('keeps memories in the PGlite data directory across a restart, migrating once', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pglite-'));
  try {
    const first = await createSqlRelationalStore(await createPgliteDriver(dir));
    const user = await first.createUser({ name: 'persisted' });
    const { memory } = await first.insertMemory(user.id, { content: 'survives restarts' });
    await first.close();

    const second = await createSqlRelationalStore(await createPgliteDriver(dir));
    assert.equal((await second.getMemory(user.id, memory.id))?.content, 'survives restarts');
    await second.close();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
