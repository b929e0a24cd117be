import type { CreateUserResult } from '../../client/src/index.ts';
import { stringOption, UsageError, type Command, type CommandContext } from '../command.ts';
import { count, fields } from '../output.ts';

/** A new key is shown once: say so where a person reads it, and how to use it. */
function showKey(ctx: CommandContext, created: CreateUserResult, what: string): void {
  ctx.out.result(created, (c) =>
    fields([
      ['user id', c.user_id],
      ['key id', c.key_id],
      ['api key', c.api_key],
    ]),
  );
  ctx.out.note(
    `${what}: the API key is shown only this once. Use it with\n` +
      `  export MEMORY_ENGINE_API_KEY=${created.api_key}`,
  );
}

const oneId = (ctx: CommandContext, what: string): string => {
  if (ctx.args.length !== 1) throw new UsageError(`expected one ${what}`);
  return ctx.args[0]!;
};

const createUser: Command = {
  name: 'users create',
  synopsis: '',
  summary: 'create a user and its first API key (admin)',
  options: { name: { type: 'string' } },
  optionHelp: ['--name <name>       a name to know the user by'],
  async run(ctx) {
    const name = stringOption(ctx.values, 'name');
    const created = await ctx.client('admin').admin.createUser(name ? { name } : {}, {
      signal: ctx.signal,
    });
    showKey(ctx, created, 'user created');
  },
};

const issueKey: Command = {
  name: 'keys issue',
  synopsis: '<user id>',
  summary: 'issue another API key for a user (admin)',
  async run(ctx) {
    const issued = await ctx
      .client('admin')
      .admin.issueKey(oneId(ctx, 'user id'), { signal: ctx.signal });
    showKey(ctx, issued, 'key issued');
  },
};

const revokeKey: Command = {
  name: 'keys revoke',
  synopsis: '<key id>',
  summary: 'revoke an API key; it stops working at once (admin)',
  async run(ctx) {
    const keyId = oneId(ctx, 'key id');
    await ctx.client('admin').admin.revokeKey(keyId, { signal: ctx.signal });
    ctx.out.result({ revoked: keyId }, (r) => [`revoked key ${r.revoked}`]);
  },
};

const reindex: Command = {
  name: 'reindex',
  synopsis: '',
  summary: "requeue memories whose indexing failed: one user's or everyone's (admin)",
  options: { user: { type: 'string' } },
  optionHelp: ['--user <user id>    only this user’s'],
  async run(ctx) {
    const userId = stringOption(ctx.values, 'user');
    const answer = await ctx
      .client('admin')
      .admin.reindex(userId ? { user_id: userId } : {}, { signal: ctx.signal });
    ctx.out.result(answer, (a) => [
      `requeued ${count(a.requeued, 'failed memory', 'failed memories')}` +
        (userId ? ` of user ${userId}` : ' of every user'),
    ]);
  },
};

export const adminCommands: Command[] = [createUser, issueKey, revokeKey, reindex];
