import type {
  JSONType,
  Memory,
  MemoryEngineClient,
  SaveMemoryInput,
  SearchResult,
} from '../../client/src/index.ts';
import {
  intOption,
  listOption,
  pause,
  stringOption,
  textArgument,
  UsageError,
  type Command,
  type CommandContext,
} from '../command.ts';
import { count, shortTime, table, type Column } from '../output.ts';

/** How long `remember --wait` waits for indexing before it says so and stops waiting. */
const INDEX_WAIT_MS = 120_000;
const BATCH = 100;

const width = () => process.stdout.columns ?? 160;

const memoryColumns: Column<Memory>[] = [
  { heading: 'id', value: (m) => m.id },
  { heading: 'created', value: (m) => shortTime(m.created_at) },
  { heading: 'state', value: (m) => (m.state === 'active' ? m.index_state : m.state) },
  { heading: 'tags', value: (m) => m.tags.join(','), max: 24 },
  { heading: 'content', value: (m) => m.content },
];

type Ranked = SearchResult['results'][number];
const rankedColumns: Column<Ranked>[] = [
  { heading: 'score', value: (r) => r.score.toFixed(3) },
  { heading: 'id', value: (r) => r.id },
  { heading: 'found by', value: (r) => r.sources.join(',') },
  { heading: 'content', value: (r) => r.content },
];

function metadataOption(ctx: CommandContext): Record<string, JSONType> | undefined {
  const text = stringOption(ctx.values, 'metadata');
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, JSONType>;
    }
  } catch {
    // Reported below.
  }
  throw new UsageError('--metadata expects a JSON object, such as {"source":"notes"}');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** What to remember: the words, or standard input when they are `-` (or absent and piped). */
async function rememberedText(ctx: CommandContext): Promise<string> {
  const words = ctx.args.join(' ').trim();
  if (words && words !== '-') return words;
  if (words === '-' || !process.stdin.isTTY) return (await readStdin()).trim();
  throw new UsageError('expected the text to remember (or - to read it from standard input)');
}

/** Polls each memory until it is no longer `pending`, showing how many are left. */
async function waitIndexed(
  client: MemoryEngineClient,
  ctx: CommandContext,
  ids: string[],
): Promise<Map<string, Memory['index_state']>> {
  const states = new Map<string, Memory['index_state']>(ids.map((id) => [id, 'pending']));
  const started = Date.now();
  for (;;) {
    for (const [id, state] of states) {
      if (state === 'pending') {
        const memory = await client.memories.get(id, { signal: ctx.signal });
        states.set(id, memory.index_state);
      }
    }
    const pending = [...states.values()].filter((s) => s === 'pending').length;
    if (pending === 0) break;
    const seconds = Math.round((Date.now() - started) / 1000);
    if (Date.now() - started > INDEX_WAIT_MS) {
      ctx.out.note(`still indexing after ${seconds} s (${pending} pending): not waiting longer`);
      break;
    }
    ctx.out.progress(`indexing: ${pending} of ${ids.length} pending (${seconds} s)`);
    await pause(250, ctx.signal);
  }
  ctx.out.done();
  return states;
}

const remember: Command = {
  name: 'remember',
  synopsis: '<text>... | -',
  summary: 'save a memory (from the words, or standard input with -)',
  options: {
    tag: { type: 'string', multiple: true },
    metadata: { type: 'string' },
    lines: { type: 'boolean' },
    wait: { type: 'boolean' },
  },
  optionHelp: [
    '--tag <tag>         a tag (repeatable)',
    '--metadata <json>   a JSON object stored with the memory',
    '--lines             each non-empty line is a memory (saved 100 at a time)',
    '--wait              wait until indexed, so that search finds it',
  ],
  async run(ctx) {
    const client = ctx.client('user');
    const text = await rememberedText(ctx);
    const extra = { tags: listOption(ctx.values, 'tag'), metadata: metadataOption(ctx) };
    const contents = ctx.values.lines
      ? text
          .split('\n')
          .map((line) => line.trim())
          .filter(Boolean)
      : [text];
    if (contents.length === 0 || !contents[0]) throw new UsageError('nothing to remember');
    const saved: { id: string; created: boolean }[] = [];
    for (let i = 0; i < contents.length; i += BATCH) {
      const batch = contents
        .slice(i, i + BATCH)
        .map((content): SaveMemoryInput => ({ content, ...extra }));
      if (batch.length === 1 && contents.length === 1) {
        saved.push(await client.memories.save(batch[0]!, { signal: ctx.signal }));
      } else {
        const many = await client.memories.saveMany(batch, { signal: ctx.signal });
        many.ids.forEach((id, k) => saved.push({ id, created: many.created[k]! }));
        ctx.out.progress(`saved ${saved.length} of ${contents.length}`);
      }
    }
    ctx.out.done();
    const states = ctx.values.wait
      ? await waitIndexed(
          client,
          ctx,
          saved.map((s) => s.id),
        )
      : new Map<string, Memory['index_state']>();
    const rows = saved.map((s) => ({ ...s, index_state: states.get(s.id) ?? 'pending' }));
    ctx.out.result(contents.length === 1 ? rows[0]! : { memories: rows }, () =>
      rows.map((r) => `${r.created ? 'saved' : 'already known'} ${r.id} (${r.index_state})`),
    );
  },
};

const search: Command = {
  name: 'search',
  synopsis: '<query>...',
  summary: 'search memories by meaning and by the entities named',
  options: { limit: { type: 'string' }, tag: { type: 'string', multiple: true } },
  optionHelp: [
    '--limit <n>         at most n results (1-50, default 10)',
    '--tag <tag>         only memories with one of the tags (repeatable)',
  ],
  async run(ctx) {
    const query = textArgument(ctx, 'a query');
    const found = await ctx.client('user').search(
      {
        query,
        limit: intOption(ctx.values, 'limit', 1, 50),
        tags: listOption(ctx.values, 'tag'),
      },
      { signal: ctx.signal },
    );
    ctx.out.result(found, (r) => [
      ...(r.results.length === 0
        ? ['no memories found']
        : table(r.results, rankedColumns, width())),
      ...(r.degraded.length > 0 ? [`partial results: ${r.degraded.join(', ')}`] : []),
    ]);
  },
};

const context: Command = {
  name: 'context',
  synopsis: '<message>...',
  summary: 'what an assistant should know before it answers the message',
  options: { new: { type: 'boolean' }, depth: { type: 'string' } },
  optionHelp: [
    '--new               the message opens a new conversation (adds the narrative)',
    '--depth <0-3>       0 none, 1 fast, 2 balanced (default), 3 deep',
  ],
  async run(ctx) {
    const message = textArgument(ctx, 'a message');
    const depth = intOption(ctx.values, 'depth', 0, 3) as 0 | 1 | 2 | 3 | undefined;
    const answer = await ctx
      .client('user')
      .context(
        { message, is_new_conversation: ctx.values.new === true, depth },
        { signal: ctx.signal },
      );
    ctx.out.result(answer, (a) => [
      a.context || '(no context needed)',
      '',
      `${count(a.memories.length, 'memory', 'memories')} · plan ${a.plan.source}/${a.plan.class} (${a.plan.reason}) · ` +
        `cache plan ${a.cache.plan}, search ${a.cache.search} · ${count(a.model_calls, 'model call')} · ${Math.round(a.timings.total ?? 0)} ms`,
      ...(a.degraded.length > 0 ? [`partial: ${a.degraded.join(', ')}`] : []),
    ]);
  },
};

const list: Command = {
  name: 'list',
  synopsis: '',
  summary: 'list memories, newest first',
  options: {
    limit: { type: 'string' },
    cursor: { type: 'string' },
    tag: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    state: { type: 'string' },
    all: { type: 'boolean' },
  },
  optionHelp: [
    '--limit <n>         page size (1-200, default 50)',
    '--cursor <c>        the page after the one that handed out this cursor',
    '--tag <tag>         only memories with this tag',
    '--from, --to <iso>  created from / before these ISO 8601 date-times',
    '--state <s>         active or archived',
    '--all               every page (JSON: {items})',
  ],
  async run(ctx) {
    const client = ctx.client('user');
    const state = stringOption(ctx.values, 'state');
    if (state !== undefined && state !== 'active' && state !== 'archived') {
      throw new UsageError('--state expects active or archived');
    }
    const input = {
      limit: intOption(ctx.values, 'limit', 1, 200),
      cursor: stringOption(ctx.values, 'cursor'),
      tag: stringOption(ctx.values, 'tag'),
      from: stringOption(ctx.values, 'from'),
      to: stringOption(ctx.values, 'to'),
      state,
    } as const;
    const render = (items: Memory[]) =>
      items.length === 0 ? ['no memories'] : table(items, memoryColumns, width());
    if (!ctx.values.all) {
      const page = await client.memories.list(input, { signal: ctx.signal });
      ctx.out.result(page, (p) => render(p.items));
      if (page.next_cursor) ctx.out.note(`more: --cursor ${page.next_cursor} (or --all)`);
      return;
    }
    const items: Memory[] = [];
    for await (const memory of client.memories.all(input, { signal: ctx.signal })) {
      items.push(memory);
      if (items.length % 50 === 0) ctx.out.progress(`listed ${items.length}…`);
    }
    ctx.out.result({ items, next_cursor: null }, (p) => render(p.items));
  },
};

const forget: Command = {
  name: 'forget',
  synopsis: '<memory id>...',
  summary: 'delete memories',
  async run(ctx) {
    if (ctx.args.length === 0) throw new UsageError('expected the id of a memory to forget');
    const client = ctx.client('user');
    const deleted: string[] = [];
    for (const id of ctx.args) {
      await client.memories.delete(id, { signal: ctx.signal });
      deleted.push(id);
      if (ctx.args.length > 1) ctx.out.progress(`forgot ${deleted.length} of ${ctx.args.length}`);
    }
    ctx.out.result({ deleted }, (d) => d.deleted.map((id) => `forgot ${id}`));
  },
};

const narrative: Command = {
  name: 'narrative',
  synopsis: '',
  summary: "the user's narrative: a portrait written from their memories",
  async run(ctx) {
    const found = await ctx.client('user').narrative({ signal: ctx.signal });
    ctx.out.result(found, (n) => [
      n.content,
      '',
      `version ${n.version} · ${n.model} · ${shortTime(n.created_at)}${n.stale ? ' · stale: a rewrite is queued' : ''}`,
    ]);
  },
};

export const memoryCommands: Command[] = [remember, search, context, list, forget, narrative];
