/** A portrait of a user, written from their memories. */
export interface Narrative {
  userId: string;
  version: number;
  content: string;
  /** The user's data version the narrative was built from. */
  dataVersion: number;
  model: string;
  createdAt: Date;
}

export interface NewNarrative {
  content: string;
  dataVersion: number;
  model: string;
}
