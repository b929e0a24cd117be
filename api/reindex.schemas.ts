import { z } from 'zod';

/** `POST /v1/admin/reindex`: whose failed memories to requeue, and how many were. */
export const reindexSchemas = {
  reindexBody: z.strictObject({
    user_id: z
      .uuid({ error: 'expected a UUID' })
      .optional()
      .describe("the user whose failed memories to requeue; everyone's when absent"),
  }),
  reindexOut: z.object({
    requeued: z
      .number()
      .int()
      .describe('failed memories put back to pending and requested for indexing'),
  }),
};
