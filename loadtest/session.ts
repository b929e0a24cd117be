import type { MessageKind } from './types.ts';

/** Writes a user's messages (from what the user's memories say). */
export interface MessageSource {
  simple(): string;
  complex(): string;
  newConversation(): string;
}

/** How a virtual user's messages are mixed. */
export interface MessageMix {
  simple: number;
  complex: number;
  newConversation: number;
  /** Share of messages that repeat one of the user's recent ones (what caches are for). */
  repeatShare: number;
}

/** The context benchmark's mix: a third simple, half complex, some new conversations, 20 % repeats. */
export const DEFAULT_MIX: MessageMix = {
  simple: 0.35,
  complex: 0.5,
  newConversation: 0.15,
  repeatShare: 0.2,
};

export interface Message {
  kind: MessageKind;
  text: string;
  repeat: boolean;
}

const RECENT_PER_USER = 8;

/** Picks a user's next message: a recent one again now and then, else a fresh one of a drawn kind. */
export function createMessagePicker(random: () => number, mix: MessageMix = DEFAULT_MIX) {
  const recent: { kind: MessageKind; text: string }[] = [];
  const total = mix.simple + mix.complex + mix.newConversation;
  return (source: MessageSource): Message => {
    if (recent.length > 0 && random() < mix.repeatShare) {
      const again = recent[Math.floor(random() * recent.length)]!;
      return { ...again, repeat: true };
    }
    const u = random() * total;
    const kind: MessageKind =
      u < mix.simple ? 'simple' : u < mix.simple + mix.complex ? 'complex' : 'new_conversation';
    const text =
      kind === 'simple'
        ? source.simple()
        : kind === 'complex'
          ? source.complex()
          : source.newConversation();
    recent.push({ kind, text });
    if (recent.length > RECENT_PER_USER) recent.shift();
    return { kind, text, repeat: false };
  };
}

export interface SessionOptions {
  source: MessageSource;
  random: () => number;
  mix?: MessageMix;
  /** Mean pause between a reply and the next message (drawn from 0.5–1.5×). */
  thinkMs: number;
  /** Sends one message; resolves when it is answered (or has failed and been recorded). */
  send(message: Message): Promise<void>;
  sleep(ms: number): Promise<void>;
  /** True once the session should end; checked before each message. */
  done(): boolean;
}

/**
 * One virtual user chatting: a staggered start (so sessions do not move in
 * lockstep), then message, wait for the answer, think, until `done()`.
 * Resolves with the number of messages sent.
 */
export async function runSession(options: SessionOptions): Promise<number> {
  const pick = createMessagePicker(options.random, options.mix);
  let sent = 0;
  await options.sleep(options.random() * options.thinkMs);
  while (!options.done()) {
    await options.send(pick(options.source));
    sent++;
    if (options.done()) break;
    await options.sleep(options.thinkMs * (0.5 + options.random()));
  }
  return sent;
}
