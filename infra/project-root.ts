import { fileURLToPath } from 'node:url';

/** The checkout the product runs from: `.tools/` and the default `.data/` live here. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));
