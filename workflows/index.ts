// workflows/: deterministic orchestration only, bundled into Temporal's
// sandbox. Imports activities as types, and values only from
// @temporalio/workflow, @temporalio/common and the pure helpers listed in
// tools/lint/import-direction.js. Every long-running or scheduled workflow has
// a replayed history in test/fixtures/histories (README: Changing workflow code).
export * from './index-batch.workflow.ts';
export * from './consolidation.workflow.ts';
export * from './index-memory.workflow.ts';
export * from './index-reconciler.workflow.ts';
export * from './index-shard.workflow.ts';
export * from './index-user.workflow.ts';
export * from './import.workflow.ts';
export * from './load-test.workflow.ts';
export * from './narrative-feeder.workflow.ts';
export * from './narrative-scheduler.workflow.ts';
export * from './reembed.workflow.ts';
export * from './self-check.workflow.ts';
