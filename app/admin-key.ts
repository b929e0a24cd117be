// The admin key a development start generates when ADMIN_API_KEY is unset:
// kept in DATA_DIR/admin-key (mode 0600) so later starts, every process of
// the layout and `memory-engine admin-key` read the same one. In production
// nothing is generated: the admin API stays refused until ADMIN_API_KEY is set.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../infra/config.ts';
import { projectRoot } from '../infra/project-root.ts';

/** The file under DATA_DIR that holds a generated admin key. */
export const ADMIN_KEY_FILE = 'admin-key';

/** The shortest key the configuration accepts for ADMIN_API_KEY. */
const MIN_KEY_LENGTH = 16;

/** Where the generated admin key of `dataDir` lives. */
export const adminKeyPath = (dataDir: string): string => path.join(dataDir, ADMIN_KEY_FILE);

const errorCode = (error: unknown): unknown => (error as NodeJS.ErrnoException | null)?.code;

/** The key in `file`, or undefined when there is none; throws when the file holds no usable key. */
async function readKeyFile(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  const key = text.trim();
  if (key.length < MIN_KEY_LENGTH || /\s/.test(key)) {
    throw new Error(
      `${file} holds no usable admin key (one line of at least ${MIN_KEY_LENGTH} characters): ` +
        'delete it to have a new one generated, or set ADMIN_API_KEY',
    );
  }
  return key;
}

/**
 * Publishes `key` at `file` only if no file is there: written in full under a
 * private name first, then hard-linked into place, which fails when another
 * process got there first (whose key then wins). Returns the key in force.
 */
async function publishOnce(file: string, key: string): Promise<{ key: string; created: boolean }> {
  const scratch = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await fs.open(scratch, 'wx', 0o600);
  try {
    await handle.writeFile(`${key}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    try {
      await fs.link(scratch, file);
    } catch (error) {
      // File systems without hard links: an exclusive copy still never replaces a key.
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(String(errorCode(error)))) {
        throw error;
      }
      await fs.copyFile(scratch, file, fs.constants.COPYFILE_EXCL);
    }
    return { key, created: true };
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    const winner = await readKeyFile(file);
    if (winner === undefined) throw new Error(`${file} vanished while it was being created`);
    return { key: winner, created: false };
  } finally {
    await fs.rm(scratch, { force: true });
  }
}

/**
 * The admin key kept in `dataDir`: read when the file exists (its mode
 * tightened to 0600 if it had become readable by others), else generated
 * (32 random bytes) and stored atomically, so concurrent starts agree on one.
 */
export async function ensureAdminKeyFile(
  dataDir: string,
): Promise<{ key: string; file: string; created: boolean; tightened: boolean }> {
  const file = adminKeyPath(dataDir);
  const existing = await readKeyFile(file);
  if (existing !== undefined) {
    const { mode } = await fs.stat(file);
    const tightened = (mode & 0o077) !== 0;
    if (tightened) await fs.chmod(file, 0o600);
    return { key: existing, file, created: false, tightened };
  }
  await fs.mkdir(dataDir, { recursive: true });
  const generated = `adm_${randomBytes(32).toString('base64url')}`;
  return { ...(await publishOnce(file, generated)), file, tightened: false };
}

/**
 * The configuration with its admin key: ADMIN_API_KEY when set; in
 * production nothing more (the admin API stays refused); otherwise the key
 * in DATA_DIR/admin-key, generated on first start. With `announce`, logs one
 * line saying where the key is and how to print it, never the key.
 */
export async function withAdminKey(
  config: Config,
  logger: Logger,
  options: { announce: boolean },
): Promise<Config> {
  if (config.ADMIN_API_KEY || config.NODE_ENV === 'production') return config;
  const { key, file, created, tightened } = await ensureAdminKeyFile(config.dataDir);
  if (tightened) logger.warn({ file }, 'the admin key file was readable by others: now mode 0600');
  if (options.announce) {
    logger.info(
      { file },
      `admin key ${created ? 'generated' : 'kept'} (ADMIN_API_KEY is not set): ` +
        `print it with \`npx memory-engine admin-key\` or \`cat ${file}\``,
    );
  }
  return { ...config, ADMIN_API_KEY: key };
}

/**
 * The admin key a client of this checkout's product should send, without
 * generating one: ADMIN_API_KEY, else (outside production) the generated key
 * in DATA_DIR/admin-key, else undefined. For scripts that call the admin API.
 */
export async function readAdminKey(config: Config): Promise<string | undefined> {
  if (config.ADMIN_API_KEY || config.NODE_ENV === 'production') return config.ADMIN_API_KEY;
  return readKeyFile(adminKeyPath(config.dataDir));
}

/** Output streams of the command (tests pass their own). */
interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** DATA_DIR as `npm start` resolves it: npm runs scripts in the checkout, where `.data` is. */
function dataDirOf(argv: string[], env: NodeJS.ProcessEnv): string | undefined {
  const flag = argv.indexOf('--data-dir');
  if (flag >= 0) return argv[flag + 1] ? path.resolve(argv[flag + 1]!) : undefined;
  const fromEnv = env.DATA_DIR?.trim();
  return fromEnv ? path.resolve(fromEnv) : path.join(projectRoot, '.data');
}

const USAGE =
  'usage: memory-engine admin-key [--data-dir <dir>]\n' +
  '  prints the admin key: ADMIN_API_KEY when set, else the one `npm start` generated in\n' +
  '  DATA_DIR/admin-key (DATA_DIR from the environment, default .data in the checkout)\n';

/**
 * `memory-engine admin-key`: prints the admin key on stdout (exit code 0):
 * ADMIN_API_KEY when the environment sets it, else the key a development
 * start generated in DATA_DIR/admin-key. Exit code 1 with a line on stderr
 * when there is none (always in production without ADMIN_API_KEY); 2 for bad usage.
 */
export async function adminKeyCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CommandIo = process,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(USAGE);
    return 0;
  }
  const dataDir = dataDirOf(argv, env);
  if (dataDir === undefined || argv.some((a) => a.startsWith('-') && a !== '--data-dir')) {
    io.stderr.write(USAGE);
    return 2;
  }
  const configured = env.ADMIN_API_KEY?.trim();
  if (configured) {
    io.stdout.write(`${configured}\n`);
    return 0;
  }
  if (env.NODE_ENV === 'production') {
    // A production start ignores DATA_DIR/admin-key: printing one would mislead.
    io.stderr.write('memory-engine: ADMIN_API_KEY is not set (production generates no key)\n');
    return 1;
  }
  const file = adminKeyPath(dataDir);
  try {
    const key = await readKeyFile(file);
    if (key !== undefined) {
      io.stdout.write(`${key}\n`);
      return 0;
    }
    io.stderr.write(
      `memory-engine: no admin key in ${file}: start the product once (npm start) ` +
        'to generate one, or set ADMIN_API_KEY\n',
    );
  } catch (error) {
    io.stderr.write(`memory-engine: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  return 1;
}
