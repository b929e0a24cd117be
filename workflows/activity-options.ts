import type { Duration } from '@temporalio/common';
import type { ActivityOptions } from '@temporalio/workflow';

/**
 * A short activity retried until it succeeds: the wait doubles from
 * `firstRetry` up to the activity's own timeout, with no attempt limit (bad
 * input fails at once, as activities throw it non-retryable).
 */
export function retriedWithBackoff(timeout: Duration, firstRetry: Duration): ActivityOptions {
  return {
    startToCloseTimeout: timeout,
    retry: { initialInterval: firstRetry, backoffCoefficient: 2, maximumInterval: timeout },
  };
}
