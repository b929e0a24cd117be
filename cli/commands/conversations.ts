import fs from 'node:fs/promises';
import type { ConversationResult, RememberConversationInput } from '../../client/src/index.ts';
import { listOption, UsageError, type Command, type CommandContext } from '../command.ts';
import { count } from '../output.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The file's text (or standard input's, for `-`). */
async function conversationText(ctx: CommandContext): Promise<{ text: string; source: string }> {
  const [file, ...extra] = ctx.args;
  if (file === undefined) throw new UsageError('expected a JSON file of messages (or - for stdin)');
  if (extra.length > 0) throw new UsageError('expected one file');
  if (file === '-') return { text: await readStdin(), source: 'standard input' };
  try {
    return { text: await fs.readFile(file, 'utf8'), source: file };
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

/**
 * The request body from the file: `{messages: [...], tags?, metadata?}` as the
 * API takes it, or a bare array of messages. The API validates the rest.
 */
function conversationBody(text: string, source: string): RememberConversationInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source} is not JSON: ${(error as Error).message}`);
  }
  if (Array.isArray(parsed)) return { messages: parsed as RememberConversationInput['messages'] };
  if (typeof parsed === 'object' && parsed !== null && 'messages' in parsed) {
    return parsed as RememberConversationInput;
  }
  throw new UsageError(`${source}: expected {"messages": [{"role", "content", "at"?}, ...]}`);
}

function render(result: ConversationResult): string[] {
  const { extraction: how } = result;
  const source =
    how.source === 'model'
      ? 'the model'
      : `the local rule${how.fallback ? ` (the model: ${how.fallback})` : ''}`;
  return [
    ...result.created.map((m) => `created ${m.id}: ${m.content}`),
    ...result.updated.map(
      (m) => `updated ${m.id} (revision ${m.revision}): ${m.content} (was: ${m.previous.content})`,
    ),
    ...result.skipped.map(
      (s) => `skipped (${s.reason}${s.memory_id ? ` ${s.memory_id}` : ''}): ${s.content}`,
    ),
    `${count(result.created.length, 'memory', 'memories')} created, ${result.updated.length} ` +
      `updated, ${result.skipped.length} skipped; read by ${source}`,
  ];
}

const rememberConversation: Command = {
  name: 'remember-conversation',
  synopsis: '<file.json> | -',
  summary: "save what is worth remembering from a conversation's user turns",
  options: { tag: { type: 'string', multiple: true } },
  optionHelp: [
    '<file.json>         {"messages": [{"role": "user", "content": "...", "at"?: "<iso>"}, ...]}',
    '                    or a bare array of messages; - reads standard input',
    '--tag <tag>         a tag for every memory it creates (repeatable)',
  ],
  async run(ctx) {
    const { text, source } = await conversationText(ctx);
    const body = conversationBody(text, source);
    const tags = listOption(ctx.values, 'tag');
    const input = tags ? { ...body, tags: [...(body.tags ?? []), ...tags] } : body;
    const result = await ctx.client('user').rememberConversation(input, { signal: ctx.signal });
    ctx.out.result(result, render);
  },
};

export const conversationCommands: Command[] = [rememberConversation];
