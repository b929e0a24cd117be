import { Context, activityInfo, type Info } from '@temporalio/activity';

/** The running activity's cancellation signal and info, as activities read them. */
export interface ActivityContext {
  signal: AbortSignal;
  /** Undefined outside an activity. */
  info: Info | undefined;
  inActivity: boolean;
}

/** The activity's context, or a stand-in when called directly (a unit test). */
export function activityContext(): ActivityContext {
  try {
    const ctx = Context.current();
    return { signal: ctx.cancellationSignal, info: activityInfo(), inActivity: true };
  } catch {
    return { signal: new AbortController().signal, info: undefined, inActivity: false };
  }
}
