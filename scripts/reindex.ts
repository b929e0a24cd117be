/*
usage: npm run reindex -- [--user <user id>] [--url <api url>]

Puts memories whose indexing failed back to pending and requests their
indexing again, through the running stack's API (`POST /v1/admin/reindex`
with ADMIN_API_KEY, or the key `npm start` generated in DATA_DIR/admin-key): one user's with --user, everyone's without. The API is
http://HOST:PORT from the configuration unless --url says otherwise.
*/
import { readAdminKey } from '../app/admin-key.ts';
import { loadConfig } from '../infra/config.ts';
import { cliOptions } from './cli-options.ts';

function parseArgs(argv: readonly string[]): { userId?: string; url?: string } {
  const parsed: { userId?: string; url?: string } = {};
  for (const option of cliOptions(argv, import.meta.url)) {
    if (option.flag === '--user') parsed.userId = option.value();
    else if (option.flag === '--url') parsed.url = option.value();
    else throw new Error(`unknown option ${option.flag} (see --help)`);
  }
  return parsed;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  const adminKey = await readAdminKey(config);
  if (!adminKey) {
    throw new Error(
      'no admin key: set ADMIN_API_KEY (or start the product once with `npm start`, which ' +
        'generates one in DATA_DIR/admin-key outside production)',
    );
  }
  // A server listening on every interface is reached on loopback.
  const host = ['0.0.0.0', '::'].includes(config.HOST) ? '127.0.0.1' : config.HOST;
  const base = args.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`;
  const res = await fetch(new URL('/v1/admin/reindex', base), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${adminKey}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(args.userId ? { user_id: args.userId } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${base} answered ${res.status}: ${text}`);
  const { requeued } = JSON.parse(text) as { requeued: number };
  console.log(
    `requeued ${requeued} failed ${requeued === 1 ? 'memory' : 'memories'}` +
      (args.userId ? ` of user ${args.userId}` : ' of every user'),
  );
}

main().catch((error: unknown) => {
  console.error(`reindex: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
