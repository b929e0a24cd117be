// When a LoCoMo turn was said: its session's date and time ("1:56 pm on 8 May, 2023"),
// saved as its memory's event time (`occurred_at`), as a client importing a chat would
// save each message with when it was written. The content keeps its stamp as before.
import { findTimes } from '../../core/retrieval/time-expressions.ts';
import { turnMemory, type LocomoTurn } from '../locomo.ts';

const TIME_OF_DAY = /^\s*(\d{1,2})[:.](\d{2})\s*([ap])\.?m\.?\s*(?:on\s+)?/i;

/** A session's date and time of day as a UTC instant; undefined when it names no day. */
export function sessionTime(date: string): Date | undefined {
  const clock = TIME_OF_DAY.exec(date);
  const [day] = findTimes(clock ? date.slice(clock[0].length) : date);
  if (day?.expression.kind !== 'span') return undefined;
  const { from, to } = day.expression.span;
  if (to - from !== 86_400_000) return undefined;
  const hours = clock ? (Number(clock[1]) % 12) + (clock[3]!.toLowerCase() === 'p' ? 12 : 0) : 0;
  const minutes = clock ? Number(clock[2]) : 0;
  return new Date(from + (hours * 60 + minutes) * 60_000);
}

/** A turn's memory, its event time the session's when the session's date can be read. */
export function datedTurnMemory(turn: LocomoTurn) {
  const occurredAt = sessionTime(turn.date);
  return { ...turnMemory(turn), ...(occurredAt ? { occurredAt } : {}) };
}
