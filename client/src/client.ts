import type {
  ContextInput,
  ContextResult,
  ConversationResult,
  CreateUserInput,
  CreateUserResult,
  ImportResult,
  IssueKeyResult,
  ListMemoriesInput,
  LoadTestRun,
  Memory,
  MemoryPage,
  MemoryRevisions,
  Narrative,
  ReindexInput,
  ReindexResult,
  RememberConversationInput,
  SaveMemoriesInput,
  SaveMemoriesResult,
  SaveMemoryInput,
  SaveMemoryResult,
  SearchInput,
  SearchResult,
  StartLoadTestInput,
  StartLoadTestResult,
  UpdateMemoryInput,
} from './api-types.ts';
import type { Health, Readiness } from './ops-types.ts';
import {
  bodyChunks,
  jsonLines,
  openStream,
  type ExportLine,
  type ExportOptions,
  type ImportBody,
  type ImportOptions,
  type StreamCallOptions,
} from './portability.ts';
import { DEFAULT_RETRY, type RetryOptions } from './retry.ts';
import {
  send,
  type CallOptions,
  type RequestSpec,
  type RetryEvent,
  type TransportOptions,
} from './transport.ts';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface MemoryEngineClientOptions {
  /** Where the API listens (default `http://127.0.0.1:8080`); a path prefix is kept. */
  baseUrl?: string;
  /** A user's API key: every memory, search and context call acts for that user. */
  apiKey?: string;
  /** The admin key (`ADMIN_API_KEY`), for users, keys, reindexing and load tests. */
  adminKey?: string;
  /** The longest a call may take, every attempt and retry wait included (default 30 s). */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Told before each retry (to show progress, or log). */
  onRetry?: (event: RetryEvent) => void;
  /** Headers sent with every request (a `user-agent`, say). */
  headers?: Record<string, string>;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
}

const id = (value: string) => encodeURIComponent(value);

/**
 * A typed client of the memory-engine API. Every method takes optional
 * {@link CallOptions} last (an `AbortSignal`, a timeout, a request id) and
 * rejects with a `MemoryEngineError`. Requests that are safe to send twice
 * (reads, searches, context, saves, which the API stores once per content,
 * edits, deletes, reindexing) are retried on 429, 503 and network failures;
 * the others (creating a user, issuing a key, starting a load test) on 429
 * only, which the API answers before doing anything.
 */
export class MemoryEngineClient {
  readonly baseUrl: string;
  private readonly options: MemoryEngineClientOptions;
  private readonly transport: TransportOptions;

  constructor(options: MemoryEngineClientOptions = {}) {
    this.options = options;
    this.baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    this.transport = {
      baseUrl: this.baseUrl,
      apiKey: options.apiKey,
      adminKey: options.adminKey,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      fetch: (input, init) => fetchImpl(input, init),
      headers: options.headers ?? {},
      onRetry: options.onRetry,
    };
  }

  /** The same client acting for another user (say, one the admin key just created). */
  withApiKey(apiKey: string): MemoryEngineClient {
    return new MemoryEngineClient({ ...this.options, apiKey });
  }

  private send<T>(spec: RequestSpec, call?: CallOptions): Promise<T> {
    return send<T>(this.transport, spec, call);
  }

  /** `POST /v1/context`: what the assistant should know before it answers `input.message`. */
  context(input: ContextInput, call?: CallOptions): Promise<ContextResult> {
    return this.send({ ...userCall('POST', '/v1/context'), body: input }, call);
  }

  /** `POST /v1/search`: memories ranked by meaning and by the entities the query names. */
  search(input: SearchInput, call?: CallOptions): Promise<SearchResult> {
    return this.send({ ...userCall('POST', '/v1/search'), body: input }, call);
  }

  /**
   * `POST /v1/conversations`: what is worth remembering from the user's turns, saved
   * (created, updated with the old content kept, or skipped with a reason). Sending the
   * same conversation again changes nothing, so it is retried like a save.
   */
  rememberConversation(
    input: RememberConversationInput,
    call?: CallOptions,
  ): Promise<ConversationResult> {
    return this.send({ ...userCall('POST', '/v1/conversations'), body: input }, call);
  }

  /**
   * `GET /v1/export`: the user's memories (and with `narrative`, their
   * narrative first), parsed line by line as the answer streams in, so
   * memory stays flat however many there are.
   */
  exportMemories(
    options: ExportOptions = {},
    call?: StreamCallOptions,
  ): AsyncGenerator<ExportLine> {
    return jsonLines(this.exportNdjson(options, call));
  }

  /** `GET /v1/export` as the NDJSON bytes arrive (to write to a file). */
  exportNdjson(options: ExportOptions = {}, call?: StreamCallOptions): AsyncGenerator<Uint8Array> {
    return this.stream(userCall('GET', '/v1/export'), options, call);
  }

  /**
   * `POST /v1/import`: NDJSON (an export, or lines of its shape) sent as a
   * stream; answers once every line is read, with the counts and the first
   * refused lines. Importing the same lines again creates nothing, so a
   * text or bytes body is retried like a save; a stream is sent once.
   */
  async importMemories(
    body: ImportBody,
    options: ImportOptions = {},
    call?: StreamCallOptions,
  ): Promise<ImportResult> {
    const query = { all_or_nothing: options.allOrNothing ? 'true' : undefined };
    const spec = { ...userCall('POST', '/v1/import'), query, stream: body };
    const { response } = await openStream(this.transport, spec, call);
    return (await response.json()) as ImportResult;
  }

  /** The user's imports (`/v1/imports`). */
  readonly imports = {
    /** `GET /v1/imports/:id`: counts, refused lines and the indexing run's progress. */
    get: (importId: string, call?: CallOptions): Promise<ImportResult> =>
      this.send(userCall('GET', `/v1/imports/${id(importId)}`), call),
  };

  private async *stream(
    spec: RequestSpec,
    options: ExportOptions,
    call?: StreamCallOptions,
  ): AsyncGenerator<Uint8Array> {
    const query = { narrative: options.narrative ? 'true' : undefined };
    const { response, requestId } = await openStream(this.transport, { ...spec, query }, call);
    yield* bodyChunks(response, requestId);
  }

  /** `GET /v1/narrative`: the user's portrait; a `not_found` error until the first is written. */
  narrative(call?: CallOptions): Promise<Narrative> {
    return this.send(userCall('GET', '/v1/narrative'), call);
  }

  /** The user's memories (`/v1/memories`). */
  readonly memories = {
    /** `POST /v1/memories`: stored before it answers; `created: false` when the user had it. */
    save: (input: SaveMemoryInput, call?: CallOptions): Promise<SaveMemoryResult> =>
      this.send({ ...userCall('POST', '/v1/memories'), body: input }, call),
    /** `POST /v1/memories` with 1 to 100 memories, stored all or nothing. */
    saveMany: (
      memories: SaveMemoriesInput['memories'],
      call?: CallOptions,
    ): Promise<SaveMemoriesResult> =>
      this.send({ ...userCall('POST', '/v1/memories'), body: { memories } }, call),
    /** `GET /v1/memories`: one page, newest first; pass `next_cursor` back as `cursor`. */
    list: (input: ListMemoriesInput = {}, call?: CallOptions): Promise<MemoryPage> =>
      this.send({ ...userCall('GET', '/v1/memories'), query: { ...input } }, call),
    /** Every memory matching `input`, page after page (`input.limit` is the page size). */
    all: (input: ListMemoriesInput = {}, call?: CallOptions): AsyncGenerator<Memory> =>
      this.pages(input, call),
    /** `GET /v1/memories/:id`. */
    get: (memoryId: string, call?: CallOptions): Promise<Memory> =>
      this.send(userCall('GET', `/v1/memories/${id(memoryId)}`), call),
    /** `PATCH /v1/memories/:id`: a content or tag change is re-indexed. */
    update: (memoryId: string, input: UpdateMemoryInput, call?: CallOptions): Promise<Memory> =>
      this.send({ ...userCall('PATCH', `/v1/memories/${id(memoryId)}`), body: input }, call),
    /** `GET /v1/memories/:id/revisions`: what the memory said before, newest first. */
    revisions: (memoryId: string, call?: CallOptions): Promise<MemoryRevisions> =>
      this.send(userCall('GET', `/v1/memories/${id(memoryId)}/revisions`), call),
    /** `DELETE /v1/memories/:id`. */
    delete: (memoryId: string, call?: CallOptions): Promise<void> =>
      this.send({ ...userCall('DELETE', `/v1/memories/${id(memoryId)}`), goneIsDone: true }, call),
  };

  private async *pages(input: ListMemoriesInput, call?: CallOptions): AsyncGenerator<Memory> {
    let cursor = input.cursor;
    do {
      const page = await this.memories.list({ ...input, cursor }, call);
      yield* page.items;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  /** The admin routes, with the client's `adminKey`. */
  readonly admin = {
    /** `POST /v1/admin/users`: a user and its first API key (shown once). Not retried but on 429. */
    createUser: (input: CreateUserInput = {}, call?: CallOptions): Promise<CreateUserResult> =>
      this.send({ ...adminCall('POST', '/v1/admin/users', false), body: input }, call),
    /** `POST /v1/admin/users/:id/keys`: another key for the user. Not retried but on 429. */
    issueKey: (userId: string, call?: CallOptions): Promise<IssueKeyResult> =>
      this.send(adminCall('POST', `/v1/admin/users/${id(userId)}/keys`, false), call),
    /** `DELETE /v1/admin/keys/:id`: the key stops working at once. */
    revokeKey: (keyId: string, call?: CallOptions): Promise<void> =>
      this.send(
        { ...adminCall('DELETE', `/v1/admin/keys/${id(keyId)}`, true), goneIsDone: true },
        call,
      ),
    /** `POST /v1/admin/reindex`: failed memories (one user's, or everyone's) back to indexing. */
    reindex: (input: ReindexInput = {}, call?: CallOptions): Promise<ReindexResult> =>
      this.send({ ...adminCall('POST', '/v1/admin/reindex', true), body: input }, call),
    /** `POST /v1/admin/loadtests`: starts a run. Not retried but on 429. */
    startLoadTest: (
      input: StartLoadTestInput = {},
      call?: CallOptions,
    ): Promise<StartLoadTestResult> =>
      this.send({ ...adminCall('POST', '/v1/admin/loadtests', false), body: input }, call),
    /** `GET /v1/admin/users/:id/export`: one user's memories, streamed as `exportMemories` does. */
    exportUser: (
      userId: string,
      options: ExportOptions = {},
      call?: StreamCallOptions,
    ): AsyncGenerator<ExportLine> => jsonLines(this.admin.exportUserNdjson(userId, options, call)),
    /** `GET /v1/admin/users/:id/export` as the NDJSON bytes arrive. */
    exportUserNdjson: (
      userId: string,
      options: ExportOptions = {},
      call?: StreamCallOptions,
    ): AsyncGenerator<Uint8Array> =>
      this.stream(adminCall('GET', `/v1/admin/users/${id(userId)}/export`, true), options, call),
    /** `GET /v1/admin/loadtests/:id`: progress while it runs, the report summary once done. */
    loadTest: (workflowId: string, call?: CallOptions): Promise<LoadTestRun> =>
      this.send(adminCall('GET', `/v1/admin/loadtests/${id(workflowId)}`, true), call),
  };

  /** `GET /healthz`: the process is alive. */
  health(call?: CallOptions): Promise<Health> {
    return this.send(publicRead('/healthz'), call);
  }

  /** `GET /readyz`: every dependency answers (`ready`), or which do not (`unavailable`, no error). */
  ready(call?: CallOptions): Promise<Readiness> {
    return this.send({ ...publicRead('/readyz'), answers: [503] }, call);
  }

  /** `GET /openapi.json`: the API's OpenAPI 3.1 document. */
  openApi(call?: CallOptions): Promise<Record<string, unknown>> {
    return this.send(publicRead('/openapi.json'), call);
  }
}

/**
 * A route of the key's user. Each is safe to repeat: reads, searches and
 * context (whose auto-save is stored once), saves (the API stores a content
 * once per user and answers `created: false` to the repeat), edits (they set
 * values) and deletes (a 404 on a retry counts as done).
 */
const userCall = (method: RequestSpec['method'], path: string): RequestSpec => ({
  method,
  path,
  auth: 'user',
  safeToRepeat: true,
});

const adminCall = (
  method: RequestSpec['method'],
  path: string,
  safeToRepeat: boolean,
): RequestSpec => ({ method, path, auth: 'admin', safeToRepeat });

/** An operational route that needs no key. */
const publicRead = (path: string): RequestSpec => ({
  method: 'GET',
  path,
  auth: 'none',
  safeToRepeat: true,
});
