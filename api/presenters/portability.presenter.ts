import type { ExportItem } from '../../core/portability/export-service.ts';
import type { ExportedMemory, ImportRecord } from '../../core/ports/portability-store.ts';

/**
 * One memory as an export line: the fields of `GET /v1/memories/:id` plus
 * `external_id`, times with microseconds; `type` tells it from the
 * narrative line. An import takes the same line back.
 */
export function memoryLine(m: ExportedMemory): string {
  return JSON.stringify({
    type: 'memory',
    id: m.id,
    external_id: m.externalId,
    content: m.content,
    tags: m.tags,
    metadata: m.metadata,
    state: m.state,
    index_state: m.indexState,
    revision: m.revision,
    created_at: m.createdAt,
    updated_at: m.updatedAt,
    occurred_at: m.occurredAt,
    expires_at: m.expiresAt,
  });
}

/** An export's items as NDJSON text, one chunk per page (so a page is one write). */
export async function* ndjsonChunks(items: AsyncIterable<ExportItem>): AsyncGenerator<string> {
  for await (const item of items) {
    if (item.kind === 'narrative') {
      const n = item.narrative;
      yield `${JSON.stringify({
        type: 'narrative',
        content: n.content,
        version: n.version,
        data_version: n.dataVersion,
        model: n.model,
        created_at: n.createdAt.toISOString(),
      })}\n`;
    } else {
      yield `${item.memories.map(memoryLine).join('\n')}\n`;
    }
  }
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** An import as `POST /v1/import` and `GET /v1/imports/:id` answer with it. */
export function importView(record: ImportRecord) {
  return {
    import_id: record.id,
    state: record.state,
    all_or_nothing: record.allOrNothing,
    ...record.counts,
    errors: record.errors,
    indexing: {
      state: record.indexing.state,
      indexed: record.indexing.indexed,
      failed: record.indexing.failed,
      workflow_id: record.indexing.workflowId,
    },
    status_url: `/v1/imports/${record.id}`,
    created_at: record.createdAt.toISOString(),
    received_at: iso(record.receivedAt),
    indexed_at: iso(record.indexedAt),
  };
}
