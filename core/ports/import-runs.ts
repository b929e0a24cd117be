/**
 * Port for the durable run that indexes an import's new memories: one per
 * import (a Temporal workflow, `import-<import id>`), which pages through
 * them in file order while lines still arrive and reports its progress.
 */
export interface ImportRuns {
  /**
   * Starts the import's run, or finds the one already started (asking again
   * is harmless); resolves to its workflow id.
   */
  start(input: { importId: string; userId: string }): Promise<{ workflowId: string }>;
}
