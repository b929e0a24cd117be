/** One end-to-end check of API, workflow engine, worker and store. */
export interface SelfCheck {
  id: string;
  workflowId: string;
  note: string;
  createdAt: Date;
}
