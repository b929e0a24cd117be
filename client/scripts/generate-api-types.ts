/**
 * Writes `client/src/api-types.ts`: the request and response types of every
 * `/v1` route, computed by the TypeScript checker as `z.input` (what a caller
 * sends: defaults optional) and `z.output` (what the API answers) of the zod
 * schemas in `api/` that validate requests and generate `/openapi.json`, then
 * printed as plain types. The client thus carries the schemas' types with no
 * zod at run time and no import outside its own package.
 *
 *   npx tsx client/scripts/generate-api-types.ts           write the file
 *   npx tsx client/scripts/generate-api-types.ts --check   exit 1 when it is out of date
 *
 * `test/client/api-types.test.ts` runs the check, so a schema change that is
 * not regenerated fails the suite.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const API_TYPES_FILE = path.join(ROOT, 'client/src/api-types.ts');
const PROBE_FILE = path.join(ROOT, 'client/scripts/__api-types-probe.ts');
const LOADTEST_ROUTES = path.join(ROOT, 'api/loadtest.routes.ts');
/**
 * The load-test route keeps its schemas to itself; the probe sees them
 * through an export clause added to the file's text in memory only.
 */
const LOADTEST_EXPORTS =
  '\nexport { startBody as __startBody, startOut as __startOut, statusOut as __statusOut };\n';

/** Each generated type: its name, what it is for, and the type expression the checker resolves. */
const TYPES: { name: string; doc: string; type: string }[] = [
  { name: 'SaveMemoryInput', doc: '`POST /v1/memories`: one memory.', type: 'In<S["newMemory"]>' },
  {
    name: 'SaveMemoriesInput',
    doc: '`POST /v1/memories`: a batch of 1 to 100, stored all or nothing.',
    type: 'In<S["newMemories"]>',
  },
  {
    name: 'UpdateMemoryInput',
    doc: '`PATCH /v1/memories/:id`: at least one field.',
    type: 'In<S["memoryPatch"]>',
  },
  {
    name: 'ListMemoriesInput',
    doc: '`GET /v1/memories`: page size (1–200, default 50), cursor and filters.',
    type: 'Flat<Omit<In<S["listQuery"]>, "limit"> & { limit?: Out<S["listQuery"]>["limit"] }>',
  },
  {
    name: 'SearchInput',
    doc: '`POST /v1/search`: the query, at most `limit` results (1–50, default 10), tags.',
    type: 'Flat<Omit<In<S["searchBody"]>, "limit"> & { limit?: Out<S["searchBody"]>["limit"] }>',
  },
  { name: 'ContextInput', doc: '`POST /v1/context`.', type: 'In<S["contextBody"]>' },
  {
    name: 'RememberConversationInput',
    doc: '`POST /v1/conversations`: the messages (1–200), and tags or metadata for new memories.',
    type: 'In<S["conversationBody"]>',
  },
  { name: 'CreateUserInput', doc: '`POST /v1/admin/users`.', type: 'In<S["createUserBody"]>' },
  {
    name: 'ReindexInput',
    doc: '`POST /v1/admin/reindex`.',
    type: 'In<typeof reindexSchemas.reindexBody>',
  },
  {
    name: 'StartLoadTestInput',
    doc: '`POST /v1/admin/loadtests`.',
    type: 'In<typeof LoadTest.__startBody>',
  },
  { name: 'Memory', doc: 'One stored memory.', type: 'Out<S["memoryOut"]>' },
  {
    name: 'SaveMemoryResult',
    doc: 'The answer to saving one memory (`created: false` when the user had it).',
    type: 'Out<S["saveOneOut"]>',
  },
  {
    name: 'SaveMemoriesResult',
    doc: 'The answer to saving a batch.',
    type: 'Out<S["saveManyOut"]>',
  },
  { name: 'MemoryPage', doc: 'One page of memories, newest first.', type: 'Out<S["pageOut"]>' },
  { name: 'SearchResult', doc: 'Ranked search results.', type: 'Out<S["searchOut"]>' },
  { name: 'ContextResult', doc: 'The context for a message.', type: 'Out<S["contextOut"]>' },
  { name: 'Narrative', doc: "The user's current narrative.", type: 'Out<S["narrativeOut"]>' },
  {
    name: 'ConversationResult',
    doc: 'What a conversation created, updated and skipped, and how its facts were found.',
    type: 'Out<S["conversationOut"]>',
  },
  {
    name: 'MemoryRevisions',
    doc: 'What a memory said before its revisions, newest first.',
    type: 'Out<S["revisionsOut"]>',
  },
  {
    name: 'CreateUserResult',
    doc: 'A new user and its first API key (shown once).',
    type: 'Out<S["createUserOut"]>',
  },
  { name: 'IssueKeyResult', doc: 'Another API key for a user.', type: 'Out<S["issueKeyOut"]>' },
  {
    name: 'ReindexResult',
    doc: 'How many failed memories were requeued.',
    type: 'Out<typeof reindexSchemas.reindexOut>',
  },
  {
    name: 'StartLoadTestResult',
    doc: 'A started load test.',
    type: 'Out<typeof LoadTest.__startOut>',
  },
  { name: 'LoadTestRun', doc: 'A load test run.', type: 'Out<typeof LoadTest.__statusOut>' },
  {
    name: 'ImportResult',
    doc: 'An import: its counts, first refused lines and indexing (`POST /v1/import`).',
    type: 'Out<P["importOut"]>',
  },
  { name: 'ApiErrorCode', doc: "The API's error codes.", type: 'ErrorCode' },
  { name: 'ApiErrorBody', doc: 'The envelope of every error response.', type: 'Flat<ErrorBody>' },
];

function probeSource(): string {
  return [
    "import type { z } from 'zod';",
    "import type { ApiSchemas } from '../../api/schemas.ts';",
    "import type { ErrorBody } from '../../api/errors.ts';",
    "import type { reindexSchemas } from '../../api/reindex.schemas.ts';",
    "import type * as LoadTest from '../../api/loadtest.routes.ts';",
    "import type { PortabilitySchemas } from '../../api/portability.schemas.ts';",
    "import type { ErrorCode } from '../../core/errors.ts';",
    'type S = ApiSchemas;',
    'type P = PortabilitySchemas;',
    'type In<T extends z.ZodType> = z.input<T>;',
    'type Out<T extends z.ZodType> = z.output<T>;',
    'type Flat<T> = { [K in keyof T]: T[K] };',
    ...TYPES.map((t) => `export type ${t.name} = ${t.type};`),
  ].join('\n');
}

function createProbeProgram(): ts.Program {
  const options: ts.CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const overrides = new Map<string, () => string>([
    [PROBE_FILE, probeSource],
    [LOADTEST_ROUTES, () => `${readFile(LOADTEST_ROUTES) ?? ''}${LOADTEST_EXPORTS}`],
  ]);
  host.fileExists = (file) => overrides.has(file) || fileExists(file);
  host.readFile = (file) => overrides.get(file)?.() ?? readFile(file);
  host.getSourceFile = (file, language) => {
    const text = host.readFile(file);
    return text === undefined ? undefined : ts.createSourceFile(file, text, language);
  };
  return ts.createProgram([PROBE_FILE], options, host);
}

/** The generated file's text, formatted as the repository formats its sources. */
export async function generateApiTypes(): Promise<string> {
  const program = createProbeProgram();
  const probe = program.getSourceFile(PROBE_FILE)!;
  const problems = ts.getPreEmitDiagnostics(program, probe);
  if (problems.length > 0) {
    const text = problems.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    throw new Error(`the api/ schemas could not be read:\n${text.join('\n')}`);
  }
  const checker = program.getTypeChecker();
  const flags =
    ts.TypeFormatFlags.NoTruncation |
    ts.TypeFormatFlags.InTypeAlias |
    ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType;
  const printed = new Map<string, string>();
  for (const statement of probe.statements) {
    if (!ts.isTypeAliasDeclaration(statement)) continue;
    const type = checker.getTypeAtLocation(statement.name);
    printed.set(statement.name.text, checker.typeToString(type, undefined, flags));
  }
  const body = TYPES.map((t) => `/** ${t.doc} */\nexport type ${t.name} = ${printed.get(t.name)};`);
  const source = [
    '// Generated by client/scripts/generate-api-types.ts from the zod schemas in api/',
    '// (z.input for requests, z.output for answers). Do not edit: run the script.',
    '',
    '/** Any JSON value (metadata values). */',
    'export type JSONType = string | number | boolean | null | JSONType[] | { [key: string]: JSONType };',
    '',
    ...body,
    '',
  ].join('\n');
  const config = await prettier.resolveConfig(API_TYPES_FILE);
  return prettier.format(source, { ...config, filepath: API_TYPES_FILE });
}

async function main() {
  const generated = await generateApiTypes();
  if (process.argv.includes('--check')) {
    const current = await fs.readFile(API_TYPES_FILE, 'utf8').catch(() => '');
    if (current !== generated) {
      process.stderr.write(
        `${path.relative(ROOT, API_TYPES_FILE)} is out of date: run npx tsx client/scripts/generate-api-types.ts\n`,
      );
      process.exitCode = 1;
    }
    return;
  }
  await fs.writeFile(API_TYPES_FILE, generated);
  process.stdout.write(`wrote ${path.relative(ROOT, API_TYPES_FILE)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
