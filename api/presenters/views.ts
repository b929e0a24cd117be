import type { z } from 'zod';
import type { SaveResult } from '../../core/memories/memory-service.ts';
import type { Memory, Narrative } from '../../core/ports/relational-store.ts';
import type { ApiSchemas } from '../schemas.ts';

/** What a presenter hands to an edge: the response body and its HTTP status. */
export interface Presented<T> {
  status: number;
  body: T;
}

type Out<K extends keyof ApiSchemas> = z.output<ApiSchemas[K]>;
export type MemoryOut = Out<'memoryOut'>;
export type SaveAck = Out<'saveOneOut'>;

/** A memory as the API shows it. */
export function memoryView(m: Memory) {
  return {
    id: m.id,
    content: m.content,
    tags: m.tags,
    metadata: m.metadata,
    state: m.state,
    index_state: m.indexState,
    revision: m.revision,
    created_at: new Date(m.createdAt).toISOString(),
    updated_at: new Date(m.updatedAt).toISOString(),
    occurred_at: new Date(m.occurredAt).toISOString(),
    expires_at: m.expiresAt ? new Date(m.expiresAt).toISOString() : null,
    external_id: m.externalId ?? null,
  };
}

/** A memory found for a query (search or context), with its fused score and its retrievers. */
export function rankedView<S extends string>(hit: { memory: Memory; score: number; sources: S[] }) {
  return {
    id: hit.memory.id,
    content: hit.memory.content,
    tags: hit.memory.tags,
    score: Number(hit.score.toFixed(6)),
    created_at: new Date(hit.memory.createdAt).toISOString(),
    occurred_at: new Date(hit.memory.occurredAt).toISOString(),
    sources: hit.sources,
  };
}

/** How a save is acknowledged for one memory. */
export function saveAckView(result: SaveResult): SaveAck {
  return {
    id: result.memory.id,
    index_state: result.memory.indexState,
    created: result.created,
  };
}

/** A narrative as the API shows it. */
export function narrativeView(narrative: Narrative, stale: boolean): Out<'narrativeOut'> {
  return {
    content: narrative.content,
    version: narrative.version,
    data_version: narrative.dataVersion,
    stale,
    model: narrative.model,
    created_at: new Date(narrative.createdAt).toISOString(),
  };
}
