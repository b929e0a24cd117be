import { entityKey, relationType } from '../../core/extraction/entity-extractor.ts';
import type { MemoryGraph } from '../../core/ports/graph-store.ts';

// One definition of entity matching and relation naming, shared with extraction and search.
export { entityKey };

/** A name as shown: as written, but trimmed and with single spaces. */
function displayName(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/g, ' ');
}

/** An entity as both adapters store it. */
export interface PreparedEntity {
  key: string;
  name: string;
  type: string;
  /**
   * False for an entity that appears only as a relation's end: it is stored
   * (type `thing`) but does not overwrite the name and type another memory gave it.
   */
  explicit: boolean;
}

export interface PreparedRelation {
  fromKey: string;
  toKey: string;
  type: string;
}

/** A memory's graph after normalisation, with duplicates removed. */
export interface PreparedGraph {
  entities: PreparedEntity[];
  relations: PreparedRelation[];
}

const DEFAULT_ENTITY_TYPE = 'thing';

/**
 * Normalises a memory's graph for storage: entities keyed and de-duplicated
 * (the first spelling wins), blank names dropped, types cleaned, and every
 * relation end recorded as an entity the memory mentions, so a relation can
 * never point at an entity that does not exist. Relations from an entity to
 * itself carry nothing to follow and are dropped.
 */
export function prepareMemoryGraph(graph: MemoryGraph): PreparedGraph {
  const entities = new Map<string, PreparedEntity>();
  for (const entity of graph.entities) {
    const key = entityKey(entity.name);
    if (key === '' || entities.has(key)) continue;
    entities.set(key, {
      key,
      name: displayName(entity.name),
      type: entityType(entity.type),
      explicit: true,
    });
  }
  const relations = new Map<string, PreparedRelation>();
  for (const relation of graph.relations) {
    const fromKey = entityKey(relation.from);
    const toKey = entityKey(relation.to);
    if (fromKey === '' || toKey === '' || fromKey === toKey) continue;
    for (const [key, name] of [
      [fromKey, relation.from],
      [toKey, relation.to],
    ] as const) {
      if (!entities.has(key)) {
        entities.set(key, {
          key,
          name: displayName(name),
          type: DEFAULT_ENTITY_TYPE,
          explicit: false,
        });
      }
    }
    const type = relationType(relation.type);
    relations.set(JSON.stringify([fromKey, toKey, type]), { fromKey, toKey, type });
  }
  return { entities: [...entities.values()], relations: [...relations.values()] };
}

function entityType(type: string): string {
  const cleaned = type.trim().toLowerCase();
  return cleaned === '' ? DEFAULT_ENTITY_TYPE : cleaned;
}

/** A `limit` as a whole number of at least 0 (at most `max`). */
export function clampLimit(limit: number, max = 1000): number {
  if (!Number.isFinite(limit)) return max;
  return Math.min(Math.max(Math.floor(limit), 0), max);
}
