// The direction imports may run between the project's rooms, as an ESLint rule
// (`local/import-direction` in eslint.config.js). `npm test` lints first, so an
// import against the direction fails the build. The rooms and what each may
// import are listed in the README's Layout section; this file is the enforcer.
import path from 'node:path';

/** Rooms that make up the product: they never import tooling. */
const PRODUCT = ['api', 'app', 'activities', 'core', 'infra', 'loadtest', 'workers', 'workflows'];
/** Rooms that only tests, benchmarks and command lines use. */
const TOOLING = ['bench', 'cli', 'scripts', 'test', 'tools'];
/** Rooms below `app/`: assembled by it, never importing it. */
const BELOW_APP = PRODUCT.filter((room) => room !== 'app');
/** Packages a workflow may import values from (the bundle runs in Temporal's sandbox). */
const WORKFLOW_PACKAGES = /^@temporalio\/(workflow|common)(\/|$)/;

/**
 * Files outside `workflows/` that hold pure values only (no I/O, no Node
 * APIs, no clocks or randomness) and so may enter the workflow bundle. Each
 * says so in its header; add one here only after checking the same.
 */
export const WORKFLOW_SAFE_FILES = [
  'core/consolidation/counts.ts',
  'core/narrative/priority-queue.ts',
  'loadtest/progress.ts',
];

/** Each rule: who it applies to, what it forbids, and why in one line. */
export const DIRECTION_RULES = [
  {
    from: ['core'],
    forbids: (to) => to.room !== 'core',
    why: 'core/ imports nothing outside core/ (the engine runs over its ports)',
  },
  {
    from: PRODUCT,
    forbids: (to) => TOOLING.includes(to.room),
    why: 'the product never imports bench/, cli/, scripts/, test/ or tools/',
  },
  {
    from: BELOW_APP,
    forbids: (to) => to.room === 'app',
    why: 'app/ assembles the product; nothing it assembles imports it back',
  },
  {
    from: ['client'],
    forbids: (to) => to.room !== 'client',
    why: 'client/ is published on its own: it imports nothing outside client/',
  },
  {
    from: ['loadtest'],
    forbids: (to) => to.room !== 'loadtest' && to.room !== 'core',
    why: 'loadtest/ is a load generator over HTTP: it imports only core/ helpers',
  },
  {
    from: ['workflows'],
    forbids: (to, typeOnly) =>
      !typeOnly && to.room !== 'workflows' && !WORKFLOW_SAFE_FILES.includes(to.file),
    why: 'workflows/ import only types and the pure helpers listed in tools/lint/import-direction.js',
  },
];

function isTypeOnly(node) {
  if (node.importKind === 'type' || node.exportKind === 'type') return true;
  const specifiers = node.specifiers ?? [];
  return (
    specifiers.length > 0 &&
    specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type')
  );
}

/** @type {import('eslint').Rule.RuleModule} */
export const importDirection = {
  meta: {
    type: 'problem',
    docs: { description: 'imports run one way between the project rooms' },
    schema: [],
    messages: { against: "'{{spec}}' imports {{to}} from {{from}}: {{why}}" },
  },
  create(context) {
    const root = context.cwd;
    const self = path.relative(root, context.filename).split(path.sep).join('/');
    const room = self.split('/')[0];
    const check = (node, source, typeOnly) => {
      if (typeof source !== 'string') return;
      if (!source.startsWith('.')) {
        if (room === 'workflows' && !typeOnly && !WORKFLOW_PACKAGES.test(source)) {
          context.report({
            node,
            messageId: 'against',
            data: {
              spec: source,
              to: 'a package',
              from: 'workflows/',
              why: 'a workflow imports values only from @temporalio/workflow and @temporalio/common',
            },
          });
        }
        return;
      }
      const file = path.posix.normalize(path.posix.join(path.posix.dirname(self), source));
      const to = { room: file.split('/')[0], file };
      for (const rule of DIRECTION_RULES) {
        if (rule.from.includes(room) && rule.forbids(to, typeOnly)) {
          context.report({
            node,
            messageId: 'against',
            data: { spec: source, to: `${to.room}/`, from: `${room}/`, why: rule.why },
          });
          return;
        }
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value, isTypeOnly(node)),
      ExportNamedDeclaration: (node) =>
        node.source && check(node, node.source.value, isTypeOnly(node)),
      ExportAllDeclaration: (node) => check(node, node.source.value, node.exportKind === 'type'),
      ImportExpression: (node) =>
        node.source.type === 'Literal' && check(node, node.source.value, false),
    };
  },
};

/** The plugin as eslint.config.js registers it. */
export default { rules: { 'import-direction': importDirection } };
