import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sessionTime } from '../../bench/quality/session-time.ts';

describe('LoCoMo session times (the quality benchmark dates each turn by its session)', () => {
  it('reads the date and the time of day as a UTC instant', () => {
    assert.equal(sessionTime('1:56 pm on 8 May, 2023')?.toISOString(), '2023-05-08T13:56:00.000Z');
    assert.equal(sessionTime('12:09 am on 13 September, 2023')?.toISOString(), '2023-09-13T00:09:00.000Z'); // prettier-ignore
  });

  it('takes midnight for a date without a time, and nothing for text naming no day', () => {
    assert.equal(sessionTime('8 May, 2023')?.toISOString(), '2023-05-08T00:00:00.000Z');
    assert.equal(sessionTime('May 2023'), undefined);
    assert.equal(sessionTime('sometime'), undefined);
  });
});
