// bench/: benchmarks, never part of `npm test`; each writes a report under
// bench/reports. May import anything.
//
// What the benchmarks share, in one import: the clean-up registry and its Ctrl-C
// handling (installed on import), the product's API client, the run's services and
// product child, the helpers that run in processes of their own (the Gemini
// emulator, the process-tree sampler), the calls around the measured ones, the
// load generator's own event-loop delay, and the report files.
export { mapLimit } from '../core/concurrency/limits.ts';
export { percentile } from '../core/util/percentile.ts';
export * from './kit/lifecycle.ts';
export * from './kit/http.ts';
export * from './kit/run-setup.ts';
export * from './kit/product-child.ts';
export * from './kit/product-api.ts';
export * from './kit/report-files.ts';
export * from './kit/process-tree.ts';
export * from './kit/tree-sampler.ts';
export * from './kit/emulator-child.ts';
export * from './kit/loop-delay.ts';
