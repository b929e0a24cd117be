export * from './index-memory.workflow.ts';
export * from './index-reconciler.workflow.ts';
export * from './self-check.workflow.ts';
