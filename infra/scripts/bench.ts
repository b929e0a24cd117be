// `npm run bench`: the /v1/context benchmark (bench/context-bench.ts), reached through
// the bootstrap so a fresh clone installs its packages first. Never part of `npm test`.
await import('../../bench/context-bench.ts');
