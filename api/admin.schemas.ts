import { z } from 'zod';

/** Users and keys, for the admin routes. */
export function adminSchemas() {
  const keyOut = z.object({ user_id: z.uuid(), api_key: z.string(), key_id: z.uuid() });
  return {
    createUserBody: z.strictObject({
      name: z.string().trim().min(1).max(200, 'expected at most 200 characters').optional(),
    }),
    createUserOut: keyOut,
    issueKeyOut: keyOut,
  };
}
