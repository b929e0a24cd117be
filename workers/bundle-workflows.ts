// The child process of workflow-bundle.ts: bundles the workflow code at argv[2]
// and writes it to argv[3]. Warnings and errors go to stderr, for the parent to log.
import fs from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';

const [workflowsPath, out] = process.argv.slice(2);
if (!workflowsPath || !out) {
  process.stderr.write('usage: bundle-workflows.ts <workflows entry> <output file>\n');
  process.exit(2);
}
const quiet = () => undefined;
const report = (level: string) => (message: string, meta?: Record<string, unknown>) =>
  void process.stderr.write(`${level}: ${message}${meta ? ` ${JSON.stringify(meta)}` : ''}\n`);
const { code } = await bundleWorkflowCode({
  workflowsPath,
  logger: {
    log: quiet,
    trace: quiet,
    debug: quiet,
    info: quiet,
    warn: report('warn'),
    error: report('error'),
  },
});
await fs.writeFile(out, code);
