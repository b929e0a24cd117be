export * from './self-check.workflow.ts';
