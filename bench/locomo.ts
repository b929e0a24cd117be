/**
 * The LoCoMo format (Maharana et al., 2024) as the quality benchmark reads it: a
 * validating loader, the memory each turn becomes, and evidence recall@k. Pure
 * functions apart from `loadLocomo`, which only reads the file.
 *
 * A sample has `conversation` (`speaker_a`, `speaker_b`, `session_N` lists of turns
 * with `speaker`, `dia_id`, `text` and maybe `blip_caption`, and `session_N_date_time`)
 * and `qa` (`question`, `answer`, `evidence`: dia_ids, `category` 1–5).
 */
import fs from 'node:fs';
import { z } from 'zod';

/** Categories 1–4 are scored; 5 (adversarial) is left out, as published evaluations do. */
export const CATEGORY_NAMES: Record<number, string> = {
  1: 'multi-hop',
  2: 'temporal',
  3: 'open-domain',
  4: 'single-hop',
  5: 'adversarial',
};
export const SCORED_CATEGORIES = [1, 2, 3, 4] as const;

const DIA_ID = /^D\d+:\d+$/;

const turnSchema = z.object({
  speaker: z.string().min(1),
  dia_id: z.string().min(1),
  text: z.string(),
  blip_caption: z.string().optional(),
});
const qaSchema = z.object({
  question: z.string().min(1),
  answer: z.union([z.string(), z.number()]).optional(),
  evidence: z.array(z.string()).default([]),
  category: z.number().int().min(1).max(5),
});
const sampleSchema = z.object({
  sample_id: z.string().min(1),
  conversation: z
    .object({ speaker_a: z.string(), speaker_b: z.string() })
    .catchall(z.union([z.string(), z.array(turnSchema)])),
  qa: z.array(qaSchema),
});
const datasetSchema = z.array(sampleSchema).min(1, 'expected at least one conversation');

export interface LocomoTurn {
  diaId: string;
  session: number;
  date: string;
  speaker: string;
  text: string;
  caption?: string;
}

export interface LocomoQuestion {
  question: string;
  category: number;
  /** Valid evidence dia_ids that name a turn of the conversation, without repeats. */
  evidence: string[];
  /** Evidence entries that were malformed or named no turn (left out of `evidence`). */
  droppedEvidence: string[];
}

export interface LocomoConversation {
  id: string;
  speakers: [string, string];
  turns: LocomoTurn[];
  questions: LocomoQuestion[];
}

/**
 * Splits the raw evidence list into known dia_ids and the rest: entries joined by
 * `;` or `,` are split, malformed ids (`D`, `D:11:26`) and ids naming no turn dropped.
 */
export function normalizeEvidence(raw: readonly string[], known: ReadonlySet<string>) {
  const evidence: string[] = [];
  const dropped: string[] = [];
  for (const token of raw.flatMap((e) => e.split(/[;,\s]+/)).filter(Boolean)) {
    if (DIA_ID.test(token) && known.has(token)) {
      if (!evidence.includes(token)) evidence.push(token);
    } else {
      dropped.push(token);
    }
  }
  return { evidence, dropped };
}

/** Validates parsed LoCoMo JSON; the error names the sample and field that is wrong. */
export function parseLocomo(json: unknown): LocomoConversation[] {
  const parsed = datasetSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`not LoCoMo format: [${issue.path.join('.')}] ${issue.message}`);
  }
  return parsed.data.map((sample) => {
    const conv = sample.conversation;
    const turns: LocomoTurn[] = [];
    const sessions = Object.keys(conv)
      .map((key) => /^session_(\d+)$/.exec(key)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const session of sessions) {
      const list = conv[`session_${session}`];
      const date = conv[`session_${session}_date_time`];
      if (!Array.isArray(list)) {
        throw new Error(`not LoCoMo format: ${sample.sample_id}: session_${session} is not a list`);
      }
      if (typeof date !== 'string') {
        throw new Error(
          `not LoCoMo format: ${sample.sample_id}: session_${session}_date_time is missing`,
        );
      }
      for (const t of list) {
        turns.push({
          diaId: t.dia_id,
          session,
          date,
          speaker: t.speaker,
          text: t.text,
          ...(t.blip_caption ? { caption: t.blip_caption } : {}),
        });
      }
    }
    const known = new Set(turns.map((t) => t.diaId));
    return {
      id: sample.sample_id,
      speakers: [conv.speaker_a, conv.speaker_b],
      turns,
      questions: sample.qa.map((q) => {
        const { evidence, dropped } = normalizeEvidence(q.evidence, known);
        return { question: q.question, category: q.category, evidence, droppedEvidence: dropped };
      }),
    };
  });
}

/** Reads and validates a LoCoMo-format JSON file. */
export function loadLocomo(file: string): LocomoConversation[] {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  return parseLocomo(json);
}

/** The memory a turn becomes: its session date, speaker and text, and the photo it shares. */
export function turnMemory(turn: LocomoTurn) {
  const photo = turn.caption ? ` (shares a photo: ${turn.caption})` : '';
  return {
    content: `[${turn.date}] ${turn.speaker}: ${turn.text}${photo}`.trim(),
    metadata: { dia_id: turn.diaId, session: turn.session, speaker: turn.speaker, date: turn.date },
  };
}

/** Whether a question is scored: categories 1–4 with at least one usable evidence id. */
export const isScored = (q: LocomoQuestion) => q.category !== 5 && q.evidence.length > 0;

/**
 * Evidence recall@k: the fraction of `evidence` found among the dia_ids of the
 * first `k` results (a result may stand for several turns with the same content).
 */
export function recallAtK(
  evidence: readonly string[],
  results: readonly (readonly string[])[],
  k: number,
): number {
  const wanted = new Set(evidence);
  if (wanted.size === 0) throw new Error('recall of a question without evidence');
  const found = new Set(results.slice(0, k).flat());
  let hits = 0;
  for (const id of wanted) if (found.has(id)) hits++;
  return hits / wanted.size;
}

export interface RecallRow {
  category: number;
  at5: number;
  at10: number;
}

export interface RecallSummary {
  questions: number;
  at5: number;
  at10: number;
}

const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / (values.length || 1);
const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** Mean recall over questions, overall and per category (keys "1"–"4", those present). */
export function summarizeRecall(rows: readonly RecallRow[]) {
  const summary = (rs: readonly RecallRow[]): RecallSummary => ({
    questions: rs.length,
    at5: round3(mean(rs.map((r) => r.at5))),
    at10: round3(mean(rs.map((r) => r.at10))),
  });
  const byCategory: Record<string, RecallSummary & { name: string }> = {};
  for (const category of [...new Set(rows.map((r) => r.category))].sort((a, b) => a - b)) {
    byCategory[String(category)] = {
      name: CATEGORY_NAMES[category] ?? `category ${category}`,
      ...summary(rows.filter((r) => r.category === category)),
    };
  }
  return { overall: summary(rows), byCategory };
}
