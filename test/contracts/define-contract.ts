import { describe } from 'node:test';
import { suiteFixture } from '../support/late-bound.ts';

/**
 * One port's contract, written once and run against every adapter. Returns
 * the function each adapter's test file calls with the adapter's name and a
 * factory for a ready subject: the suite opens the subject before its tests,
 * closes it after them, and `tests` declares the tests over a late-bound
 * stand-in for it.
 */
export function defineContract<T extends object>(
  port: string,
  close: (subject: T) => Promise<void>,
  tests: (subject: T) => void,
): (adapter: string, open: () => Promise<T>) => void {
  return (adapter, open) => {
    describe(`${port} contract: ${adapter}`, () => {
      tests(suiteFixture(`the ${port} on ${adapter}`, open, close));
    });
  };
}
