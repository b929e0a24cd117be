/** A person whose assistant remembers things; every memory belongs to one. */
export interface User {
  id: string;
  name: string | null;
  /** Bumped by every change to the user's memories; caches key on it. */
  dataVersion: number;
  createdAt: Date;
  lastActiveAt: Date | null;
}

export interface ApiKeyRecord {
  id: string;
  userId: string;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}
