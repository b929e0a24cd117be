import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstFailing, type Step } from '../../bench/context/scale-out.ts';

const step = (offered: number, pass: boolean, retry = false): Step =>
  ({ offered, served: offered, p95: pass ? 20 : 80, allP95: null, errors: 0, pass, retry }) as Step;

describe('scale-out bench: a failing rate counts only when its second measurement fails too', () => {
  it('does not call a rate failing when it passed the second time', () => {
    const steps = [step(10, true), step(12.5, false), step(12.5, true, true), step(15.6, false), step(15.6, false, true)]; // prettier-ignore
    const first = firstFailing(steps);
    assert.equal(first?.offered, 15.6);
    assert.equal(first?.retry, true, 'the second measurement is the one reported');
  });

  it('reports no failing step when every rate passed at least once', () => {
    assert.equal(firstFailing([step(10, false), step(10, true, true)]), null);
    assert.equal(firstFailing([]), null);
  });
});
