/** What an operator asks of a load-test run through the API (the rest has defaults). */
export interface LoadTestRequest {
  /** The API under test (loopback only). */
  target: string;
  sessions?: number;
  durationS?: number;
  saves?: number;
  users?: number;
  memoriesPerUser?: number;
  rampMaxSessions?: number;
  p95ThresholdMs?: number;
}

export interface LoadTestStatus {
  workflowId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT. */
  status: string;
  /** The running scenario and its live counts, while it runs. */
  progress: unknown;
  /** The report summary and where its files are, once completed. */
  result: unknown;
  failure: string | null;
}

/** Port for starting and following load-test runs (Temporal workflows). */
export interface LoadTests {
  start(request: LoadTestRequest): Promise<{ workflowId: string }>;
  /** Null when no run has that id. */
  get(workflowId: string): Promise<LoadTestStatus | null>;
}
