import { createHash } from 'node:crypto';
import type { Embedder } from '../../core/ports/embedder.ts';
import type { RelationalStore, VectorSpaceRecord } from '../../core/ports/relational-store.ts';
import type { VectorIndex } from '../../core/ports/vector-index.ts';
import type { VectorSpace, VectorSpaces } from '../../core/ports/vector-space.ts';
import { createHashingEmbedder } from '../local/hashing-embedder.ts';

/** A space found in an index from before the registry, with the embedder that wrote it. */
export interface LegacySpace {
  id: string;
  dimension: number;
  location: string;
}

export interface OpenVectorSpacesOptions {
  store: RelationalStore;
  /** The configured embedder: its space is the one kept up to date and, once built, served. */
  target: Embedder;
  /** Opens (creating when missing) the index at a location. */
  openIndex(location: string, dimension: number): Promise<VectorIndex>;
  /** Where a space's vectors live: a table or collection name derived from its id. */
  locationFor(spaceId: string): string;
  /**
   * Removes the table or collection at a location (see `dropRetired`);
   * without it retired spaces are kept.
   */
  dropIndex?: (location: string) => Promise<void>;
  /** An index filled before spaces were registered, if any (registered as the active space). */
  findLegacy?: () => Promise<LegacySpace | null>;
  /**
   * An embedder for a space other than the target's, by id (the local models'), so its
   * searches go on while the target is built; else only id-rebuildable ones (hashing) serve.
   */
  embedderFor?: (spaceId: string) => Promise<Embedder | null>;
  /** How often the registry is re-read (default 10 s); 0 turns the timer off. */
  refreshMs?: number;
  onError?: (error: unknown) => void;
}

export interface ManagedVectorSpaces extends VectorSpaces {
  /** The target space's registry state. */
  targetState(): VectorSpaceRecord['state'];
  /**
   * Removes the tables or collections of spaces retired for longer than
   * `graceMs` (longer than any process takes to re-read the registry, so
   * none reads them any more) that this process neither writes nor serves,
   * and marks them dropped; returns their ids.
   */
  dropRetired(graceMs: number): Promise<string[]>;
  /** Stops the refresh timer and closes every index it opened. */
  close(): Promise<void>;
}

/**
 * A table or collection name for a space id: lower-case, at most 40
 * characters, with a hash suffix when the id had to be shortened or changed
 * beyond recognition, so two ids never share a location.
 */
export function spaceLocation(prefix: string, spaceId: string): string {
  const slug = spaceId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const hash = createHash('sha1').update(spaceId).digest('hex').slice(0, 8);
  const base = `${prefix}_${slug}`;
  return base.length <= 40 ? base : `${base.slice(0, 31)}_${hash}`;
}

/** Embedders that can be rebuilt from a space id alone (those without a remote model). */
function embedderFromId(id: string): Embedder | null {
  const hashing = /^local:hashing@(\d+)$/.exec(id);
  return hashing ? createHashingEmbedder({ dimension: Number(hashing[1]) }) : null;
}

/**
 * The registry of embedding spaces over the relational store. The first
 * embedder a data directory sees becomes its active space. When the
 * configured embedder changes, its space is registered as building: writes
 * go to both, searches keep reading the old space (when its embedder can
 * still embed a query; otherwise vector retrieval pauses and full-text and
 * graph retrieval carry on), and the re-embedding workflow fills the new one
 * and activates it. Every process re-reads the registry periodically, so a
 * switch made by a worker reaches the API processes too.
 */
export async function openVectorSpaces(
  options: OpenVectorSpacesOptions,
): Promise<ManagedVectorSpaces> {
  const { store, target } = options;
  const opened = new Map<string, VectorIndex>();
  const indexAt = async (location: string, dimension: number) => {
    let index = opened.get(location);
    if (!index) {
      index = await options.openIndex(location, dimension);
      opened.set(location, index);
    }
    return index;
  };

  if ((await store.listVectorSpaces()).length === 0 && options.findLegacy) {
    const legacy = await options.findLegacy();
    if (legacy) await store.registerVectorSpace({ ...legacy, state: 'active' });
  }
  await store.registerVectorSpace({
    id: target.id,
    dimension: target.dimension,
    location: options.locationFor(target.id),
    state: 'active',
  });

  let state: {
    serving: VectorSpace | null;
    writing: VectorSpace[];
    target: VectorSpace;
    targetState: VectorSpaceRecord['state'];
  };
  const load = async () => {
    const records = await store.listVectorSpaces();
    const mine = records.find((r) => r.id === target.id);
    if (!mine) throw new Error(`vector space ${target.id} is not registered`);
    const targetSpace = {
      id: target.id,
      embedder: target,
      index: await indexAt(mine.location, mine.dimension),
    };
    const active = records.find((r) => r.state === 'active');
    let serving: VectorSpace | null = null;
    if (active?.id === target.id) serving = targetSpace;
    else if (active) {
      const embedder = (await options.embedderFor?.(active.id)) ?? embedderFromId(active.id);
      serving = embedder
        ? { id: active.id, embedder, index: await indexAt(active.location, active.dimension) }
        : null;
    }
    const writing = [targetSpace];
    if (serving && serving.id !== target.id) writing.unshift(serving);
    state = { serving, writing, target: targetSpace, targetState: mine.state };
  };
  await load();

  const timer =
    (options.refreshMs ?? 10_000) > 0
      ? setInterval(() => {
          load().catch((error: unknown) => options.onError?.(error));
        }, options.refreshMs ?? 10_000)
      : undefined;
  timer?.unref();

  const dropRetired = async (graceMs: number): Promise<string[]> => {
    const { dropIndex } = options;
    if (!dropIndex) return [];
    const inUse = new Set([state.target, ...state.writing].map((space) => space.id));
    if (state.serving) inUse.add(state.serving.id);
    const due = (await store.listVectorSpaces()).filter(
      (r) =>
        r.state === 'retired' &&
        r.droppedAt === null &&
        r.retiredAt !== null &&
        r.retiredAt.getTime() < Date.now() - graceMs &&
        !inUse.has(r.id),
    );
    for (const record of due) {
      const index = opened.get(record.location);
      opened.delete(record.location);
      await index?.close();
      // Removed first, marked after: a failure in between removes it again next time.
      await dropIndex(record.location);
      await store.markVectorSpaceDropped(record.id);
    }
    return due.map((r) => r.id);
  };

  return {
    dropRetired,
    serving: () => state.serving,
    writing: () => state.writing,
    indexes: () => [...opened.values()],
    target: () => state.target,
    targetState: () => state.targetState,
    refresh: load,
    async close() {
      if (timer) clearInterval(timer);
      for (const index of opened.values()) await index.close();
      opened.clear();
    },
  };
}
