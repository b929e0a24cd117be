import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { AppError } from '../core/errors.ts';
import {
  createExportService,
  type ExportItem,
  type ExportService,
} from '../core/portability/export-service.ts';
import {
  createImportService,
  type ImportService,
  type ImportSettings,
} from '../core/portability/import-service.ts';
import type { ImportRuns } from '../core/ports/import-runs.ts';
import type { PortabilityStore } from '../core/ports/portability-store.ts';
import type { RelationalStore } from '../core/ports/relational-store.ts';
import {
  importLineParser,
  portabilitySchemas,
  type PortabilitySchemas,
} from './portability.schemas.ts';
import { importView, ndjsonChunks } from './presenters/portability.presenter.ts';
import { routeGroup, type RouteResult, type RouteSpec } from './route-registry.ts';
import { uuidParam, type ApiSchemas } from './schemas.ts';

const portabilityRoute = routeGroup({ tag: 'portability', auth: 'user' });
const adminRoute = routeGroup({ tag: 'admin', auth: 'admin' });

/** The media types an import body may be sent as. */
const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/x-jsonlines'];

/** What export and import run over, as the process wires them. */
export interface PortabilityDeps {
  store: PortabilityStore;
  /** Starts each import's indexing run (a Temporal workflow). */
  runs?: ImportRuns;
  settings?: Partial<ImportSettings>;
  /** Told when an export fails after it began (the answer is cut off, not an error body). */
  onExportError?: (error: unknown, requestId: string) => void;
  /** Told when an import's indexing run could not be started (the import stands). */
  onImportRunError?: (error: unknown, importId: string) => void;
}

interface PortabilityServices {
  exports: ExportService;
  imports: ImportService;
  onExportError?: PortabilityDeps['onExportError'];
}

/**
 * Streams an export as NDJSON with backpressure: a page is read only once
 * the previous one is written out, so memory stays at about one page. The
 * first page is read before anything is sent, so a failure there is still
 * an error answer; a failure later cuts the response off (a client sees a
 * broken chunked body, never a silently short file).
 */
async function streamExport(
  req: Request,
  res: Response,
  items: AsyncGenerator<ExportItem>,
  onError: PortabilityServices['onExportError'],
): Promise<RouteResult> {
  const chunks = ndjsonChunks(items);
  const first = await chunks.next();
  res.status(200);
  res.setHeader('content-type', 'application/x-ndjson; charset=utf-8');
  res.setHeader('content-disposition', 'attachment; filename="memories.ndjson"');
  res.setHeader('cache-control', 'no-store');
  async function* all() {
    if (!first.done) yield first.value;
    yield* chunks;
  }
  try {
    // On a failure the pipeline destroys the response: the client sees a broken body.
    await pipeline(Readable.from(all(), { highWaterMark: 1 }), res);
  } catch (error) {
    // A client that went away early is not a failure of ours; anything else is told.
    if ((error as { code?: unknown }).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
      onError?.(error, req.id);
    }
  }
  return { status: 200, sent: true };
}

function requireNdjson(req: Request): void {
  if (!req.is(NDJSON_TYPES)) {
    throw new AppError(
      'unsupported_media_type',
      'expected a body of JSON lines with Content-Type: application/x-ndjson',
    );
  }
}

/**
 * `GET /v1/export`, `POST /v1/import`, `GET /v1/imports/:id` (each acting
 * for the key's user) and `GET /v1/admin/users/:id/export` (admin), over
 * the export and import services built here.
 */
export function portabilityRoutes(
  api: ApiSchemas,
  store: RelationalStore,
  deps: PortabilityDeps,
): RouteSpec[] {
  const s = portabilitySchemas(api);
  const exports = createExportService({ portability: deps.store, store });
  const imports = createImportService({
    store: deps.store,
    parse: importLineParser(s.importLine),
    ...(deps.runs ? { runs: deps.runs } : {}),
    ...(deps.settings ? { settings: deps.settings } : {}),
    ...(deps.onImportRunError ? { onRunStartError: deps.onImportRunError } : {}),
  });
  return routes(s, { exports, imports, onExportError: deps.onExportError });
}

function routes(s: PortabilitySchemas, services: PortabilityServices): RouteSpec[] {
  const { exports, imports, onExportError } = services;
  return [
    portabilityRoute({
      method: 'get',
      path: '/v1/export',
      operationId: 'exportMemories',
      summary: "Export the caller's memories as NDJSON, streamed",
      description:
        'One JSON object a line (`application/x-ndjson`): every memory with every field of its ' +
        'newest revision (vectors are derived and left out), in save order; with ' +
        "`narrative=true` the user's current narrative first. `POST /v1/import` takes it back.",
      query: s.exportQuery,
      responses: { 200: { description: 'the memories, one JSON object per line' } },
      handler: ({ query, userId, req, res }) =>
        streamExport(req, res, exports.mine(userId, { narrative: query.narrative }), onExportError),
    }),
    adminRoute({
      method: 'get',
      path: '/v1/admin/users/:id/export',
      operationId: 'exportUserMemories',
      summary: "Export one user's memories as NDJSON, streamed (admin)",
      params: uuidParam,
      query: s.exportQuery,
      responses: { 200: { description: 'the memories, one JSON object per line' } },
      async handler({ params, query, req, res }) {
        const items = await exports.ofUser(params.id, { narrative: query.narrative });
        return streamExport(req, res, items, onExportError);
      },
    }),
    portabilityRoute({
      method: 'post',
      path: '/v1/import',
      operationId: 'importMemories',
      summary: 'Import memories from NDJSON (an export, or lines of the same shape), streamed',
      description:
        'The body is read as it arrives (`Content-Type: application/x-ndjson`, no size limit but ' +
        'a bound against runaway uploads). Each line is validated like a save; a bad line is ' +
        'refused with its number and skipped, or with `all_or_nothing=true` the whole file is ' +
        'refused (400, nothing stored). Lines are deduplicated by `external_id` when given, else ' +
        'by content, and committed in batches; importing the same file again creates nothing. ' +
        'One Temporal run indexes the new memories; follow it at `status_url`. One import per ' +
        'user at a time (409).',
      query: s.importQuery,
      errors: [409, 413, 415],
      responses: { 200: { description: 'read to the end', schema: s.importOut } },
      async handler({ query, userId, req }) {
        requireNdjson(req);
        const record = await imports.run(userId, req, { allOrNothing: query.all_or_nothing });
        return { status: 200, body: importView(record) };
      },
    }),
    portabilityRoute({
      method: 'get',
      path: '/v1/imports/:id',
      operationId: 'getImport',
      summary: "One of the caller's imports: its counts, refused lines and indexing progress",
      params: uuidParam,
      responses: { 200: { description: 'the import', schema: s.importOut } },
      handler: async ({ params, userId }) => ({
        status: 200,
        body: importView(await imports.get(userId, params.id)),
      }),
    }),
  ];
}
