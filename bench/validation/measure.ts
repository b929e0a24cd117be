// Validation alone, without HTTP: `parseInput` (the text walk, then the route's
// schema) over the bodies the benchmark and a client send to `/v1/context` and
// `/v1/memories`, timed one call at a time.
import { apiSchemas } from '../../api/schemas.ts';
import { parseInput } from '../../api/validation.ts';
import { configSchema } from '../../infra/config.ts';
import {
  complexMessage,
  makeMemories,
  makePersona,
  newConversationMessage,
  simpleMessage,
} from '../../loadtest/context-corpus.ts';
import type { Random } from '../../core/util/seeded-random.ts';
import { percentile } from '../../core/util/percentile.ts';
import { roundTo } from '../kit/report-files.ts';

/** How one kind of body validated: calls timed and their per-call latency in ms. */
export interface ValidationFigures {
  body: string;
  calls: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

const TAGS = ['family', 'work', 'health', 'hobby', 'travel', 'food'];

/** A few hundred distinct bodies of each kind, from the context benchmark's corpus. */
function bodies(random: Random) {
  const personas = Array.from({ length: 50 }, () => makePersona(random));
  const context = personas.flatMap((p) =>
    [simpleMessage, complexMessage, newConversationMessage].map((make, i) => ({
      message: make(p, random),
      is_new_conversation: i === 2,
    })),
  );
  const memories = personas.map((p) => makeMemories(p, 20, random));
  const oneMemory = memories.flatMap((ms) =>
    ms.slice(0, 4).map((content, j) => ({
      content,
      tags: [TAGS[j % TAGS.length]!],
      metadata: { source: 'chat', turn: j },
    })),
  );
  const batch = memories.map((ms) => ({
    memories: ms.map((content, j) => ({ content, tags: [TAGS[j % TAGS.length]!] })),
  }));
  return { context, oneMemory, batch };
}

/** Times `calls` calls of `validate` over `inputs` in turn, after a warm-up of a tenth as many. */
function time(body: string, inputs: unknown[], calls: number, validate: (v: unknown) => unknown) {
  for (let i = 0; i < Math.ceil(calls / 10); i++) validate(inputs[i % inputs.length]);
  const ms = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const input = inputs[i % inputs.length];
    const t0 = performance.now();
    validate(input);
    ms[i] = performance.now() - t0;
  }
  const sorted = ms.sort();
  const mean = sorted.reduce((s, v) => s + v, 0) / calls;
  const at = (p: number) => roundTo(percentile(sorted, p), 4);
  return { body, calls, p50: at(0.5), p95: at(0.95), p99: at(0.99), mean: roundTo(mean, 4) };
}

/**
 * Per-call latency of `parseInput` for a `/v1/context` body, a single
 * `/v1/memories` body and a batch of 20, with the product's default limits.
 */
export function measureValidation(calls: number, random: Random): ValidationFigures[] {
  const defaults = configSchema.parse({});
  const s = apiSchemas({ maxMemoryChars: defaults.MAX_MEMORY_CHARS, maxTags: defaults.MAX_TAGS });
  const { context, oneMemory, batch } = bodies(random);
  return [
    time('POST /v1/context', context, calls, (v) => parseInput(s.contextBody, v, 'body')),
    time('POST /v1/memories (one)', oneMemory, calls, (v) => parseInput(s.newMemory, v, 'body')),
    time('POST /v1/memories (batch of 20)', batch, Math.ceil(calls / 10), (v) =>
      parseInput(s.newMemories, v, 'body'),
    ),
  ];
}
