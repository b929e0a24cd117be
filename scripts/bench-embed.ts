// `npm run bench:embed -- [options]`: the local embedder alone, pinned to one core
// (bench/embed/embed-bench.ts, `--help` for its options). Never part of `npm test`.
import '../bench/embed/embed-bench.ts';
