import { ApplicationFailure } from '@temporalio/activity';
import type { ChatOptions, RampOptions } from '../loadtest/chat-load.ts';
import { loadTestTargetProblem } from '../loadtest/loopback.ts';
import type { SaveOptions } from '../loadtest/parallel-saves.ts';
import type { SeedOptions } from '../loadtest/seed-users.ts';
import type { PreparedUser } from '../loadtest/types.ts';

// What each load-test activity takes (a scenario's options plus the target) and
// the checks that refuse bad input before a scenario starts: bad input fails the
// same way on every retry, so it is non-retryable.

interface TargetInput {
  /** The API under test; loopback only. */
  target: string;
}

export type PrepareLoadTestInput = TargetInput & Omit<SeedOptions, 'label'>;
export type ChatSessionsInput = TargetInput & ChatOptions;
export type ParallelSavesInput = TargetInput & SaveOptions;
export type PeakRampInput = TargetInput & RampOptions;

export const badInput = (message: string) => ApplicationFailure.nonRetryable(message, 'BadInput');

/** The target's origin; refuses anything but http(s) on a loopback host (a load test is an attack elsewhere). */
export function loopbackTarget(raw: string): string {
  const problem = loadTestTargetProblem(raw);
  if (problem) throw badInput(problem);
  return new URL(raw).origin;
}

export function checkPrepareInput(input: PrepareLoadTestInput): void {
  if (
    !(input.users >= 1 && input.users <= 10_000) ||
    !(input.memoriesPerUser >= 1 && input.memoriesPerUser <= 1000)
  ) {
    throw badInput('users must be 1–10000 and memoriesPerUser 1–1000');
  }
}

export function checkChatInput(input: ChatSessionsInput): void {
  checkUsers(input.users);
  if (!(input.sessions >= 1 && input.sessions <= 5000) || !(input.durationMs >= 100)) {
    throw badInput('sessions must be 1–5000 and durationMs at least 100');
  }
}

export function checkSavesInput(input: ParallelSavesInput): void {
  checkUsers(input.users);
  if (!(input.count >= 1 && input.count <= 10_000)) throw badInput('count must be 1–10000');
}

export function checkRampInput(input: PeakRampInput): void {
  checkUsers(input.users);
  if (
    !(input.startSessions >= 1 && input.step >= 1 && input.maxSessions >= input.startSessions) ||
    !(input.stepDurationMs >= 100 && input.p95ThresholdMs > 0) ||
    input.maxSessions > 5000
  ) {
    throw badInput(
      'ramp: startSessions ≥ 1, step ≥ 1, startSessions ≤ maxSessions ≤ 5000, stepDurationMs ≥ 100, p95ThresholdMs > 0',
    );
  }
}

/** A workflow id used as a directory name: no separators, no dot files. */
export function checkReportId(id: string): void {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(id) || id.startsWith('.')) {
    throw badInput('workflowId is not a safe directory name');
  }
}

function checkUsers(users: readonly PreparedUser[]): void {
  if (!Array.isArray(users) || users.length === 0) {
    throw badInput('the scenario needs prepared users');
  }
}
