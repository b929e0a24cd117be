import { isGrpcServiceError, type Client } from '@temporalio/client';
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributePair,
} from '@temporalio/common';
import type { Logger } from '../logger.ts';

/** The user a workflow works for (indexing, narratives, …): filter `MemoryUserId = "<id>"`. */
export const MEMORY_USER_ID = defineSearchAttributeKey('MemoryUserId', SearchAttributeType.KEYWORD);
/** What a workflow does: filter `MemoryKind = "index"`. */
export const MEMORY_KIND = defineSearchAttributeKey('MemoryKind', SearchAttributeType.KEYWORD);

/** The attributes as `temporal server start-dev --search-attribute NAME=TYPE` takes them. */
export const MEMORY_SEARCH_ATTRIBUTES = [
  { name: MEMORY_USER_ID.name, type: 'Keyword' },
  { name: MEMORY_KIND.name, type: 'Keyword' },
] as const;

/** Every kind of workflow the product starts. */
export type MemoryWorkflowKind =
  | 'index'
  | 'import'
  | 'reembed'
  | 'narrative'
  | 'narrative-feeder'
  | 'consolidation'
  | 'loadtest'
  | 'selfcheck'
  | 'reconciler';

/** Start options that carry the attributes (an empty object when they are off). */
export interface MemoryTags {
  typedSearchAttributes?: SearchAttributePair[];
}

type Warn = Pick<Logger, 'warn'>;

// Wire numbers, so this file needs neither @grpc/grpc-js nor @temporalio/proto directly:
// gRPC statuses and temporal.api.enums.v1.IndexedValueType KEYWORD.
const INVALID_ARGUMENT = 3;
const ALREADY_EXISTS = 6;
const KEYWORD = 2;

interface NamespaceState {
  /** The attributes are missing: workflows start untagged. */
  off: boolean;
  warned?: boolean;
  /** The registration succeeded (or found them). */
  registered?: boolean;
  /** The registration, once asked for (it runs once per process). */
  ensured?: Promise<boolean>;
  logger?: Warn;
}

/** Per connection, per namespace. */
const states = new WeakMap<object, Map<string, NamespaceState>>();

function stateOf(client: Client): NamespaceState {
  // Stand-ins for the client in unit tests may have neither a connection nor options.
  const partial = client as Partial<Pick<Client, 'connection' | 'options'>>;
  const key: object = partial.connection ?? client;
  const namespace = partial.options?.namespace ?? 'default';
  let namespaces = states.get(key);
  if (!namespaces) states.set(key, (namespaces = new Map()));
  let state = namespaces.get(namespace);
  if (!state) namespaces.set(namespace, (state = { off: false }));
  return state;
}

function turnOff(client: Client, why: string, error?: unknown): void {
  const state = stateOf(client);
  state.off = true;
  if (state.warned) return;
  state.warned = true;
  const message =
    `search attributes ${MEMORY_USER_ID.name} and ${MEMORY_KIND.name} are not available ` +
    `(${why}): workflows start without them, so the Temporal UI cannot filter by user or kind. ` +
    'Add them as Keyword attributes of the namespace (Temporal Cloud: in the console) and restart.';
  if (state.logger) state.logger.warn({ err: error, namespace: client.options.namespace }, message);
  else process.emitWarning(message);
}

/**
 * The start options that tag a workflow with its kind and, when it concerns
 * one user, the user; none once this namespace turned out to lack them.
 */
export function memoryTags(client: Client, kind: MemoryWorkflowKind, userId?: string): MemoryTags {
  if (stateOf(client).off) return {};
  const pairs: SearchAttributePair[] = [{ key: MEMORY_KIND, value: kind }];
  if (userId !== undefined) pairs.push({ key: MEMORY_USER_ID, value: userId });
  return { typedSearchAttributes: pairs };
}

/**
 * True for the server's refusal of a start that names one of our attributes
 * the namespace lacks (INVALID_ARGUMENT, "Namespace default has no mapping
 * defined for search attribute MemoryKind", or "… is not defined").
 */
export function isUnknownSearchAttribute(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (
      isGrpcServiceError(e) &&
      e.code === INVALID_ARGUMENT &&
      /search attribute/i.test(e.message) &&
      MEMORY_SEARCH_ATTRIBUTES.some(({ name }) => e.message.includes(name))
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Starts a workflow tagged with {@link memoryTags}. When the server refuses
 * the attributes (not registered), starts it untagged, and later workflows
 * of this namespace too until {@link ensureMemorySearchAttributes} (started
 * here if nobody did) registers them, or warns once that it cannot: a
 * missing attribute must never fail a save.
 */
export async function startTagged<T>(
  client: Client,
  kind: MemoryWorkflowKind,
  userId: string | undefined,
  start: (tags: MemoryTags) => Promise<T>,
): Promise<T> {
  const tags = memoryTags(client, kind, userId);
  if (!tags.typedSearchAttributes) return start(tags);
  try {
    return await start(tags);
  } catch (error) {
    if (!isUnknownSearchAttribute(error)) throw error;
    const state = stateOf(client);
    // Registered by this process: the server takes a moment to know them; tag the next ones.
    if (!state.registered) {
      // Untagged until the registration (started here if nobody did) succeeds; it warns if not.
      state.off = true;
      void ensureMemorySearchAttributes(client);
    }
    return start({});
  }
}

/**
 * Registers `MemoryUserId` and `MemoryKind` (Keyword) on the client's
 * namespace through the operator service, unless they exist; once per
 * process and namespace (later calls share the first one's answer).
 * Resolves whether workflows carry them: when the server refuses (Temporal
 * Cloud takes them only from its console), logs one warning and every
 * workflow of this namespace starts without them. Never rejects. Call it at
 * start-up, before workflows start; `logger` also receives later warnings.
 */
export function ensureMemorySearchAttributes(client: Client, logger?: Warn): Promise<boolean> {
  const state = stateOf(client);
  if (logger) state.logger = logger;
  state.ensured ??= register(client).then(
    () => {
      state.off = false;
      state.registered = true;
      return true;
    },
    (error: unknown) => {
      if (isGrpcServiceError(error) && error.code === ALREADY_EXISTS) {
        state.off = false;
        state.registered = true;
        return true;
      }
      const detail = error instanceof Error ? error.message : String(error);
      turnOff(client, `registering them failed: ${detail}`, error);
      return false;
    },
  );
  return state.ensured;
}

/**
 * {@link memoryTags} once the registration has answered: for schedules,
 * whose actions start workflows later, where a refused attribute would fail
 * silently.
 */
export async function confirmedMemoryTags(
  client: Client,
  kind: MemoryWorkflowKind,
  userId?: string,
): Promise<MemoryTags> {
  await ensureMemorySearchAttributes(client);
  return memoryTags(client, kind, userId);
}

async function register(client: Client): Promise<void> {
  const namespace = client.options.namespace;
  const operator = client.connection.operatorService;
  const listed = await operator.listSearchAttributes({ namespace });
  const custom = listed.customAttributes ?? {};
  const missing = MEMORY_SEARCH_ATTRIBUTES.filter(({ name }) => !(name in custom));
  if (missing.length === 0) return;
  await operator.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(({ name }) => [name, KEYWORD])),
  });
}
