import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findTimes } from '../../core/retrieval/time-expressions.ts';
import {
  eventWords,
  hasTimeIntent,
  memoryTime,
  parseQueryTime,
  timeList,
  timeOfMemory,
  timeScore,
} from '../../core/retrieval/time-signal.ts';

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** A span as `first day..last day`, both inclusive. */
const days = (s: { from: number; to: number }) => `${iso(s.from)}..${iso(s.to - 1)}`;
const saved = new Date('2026-12-06T10:00:00Z');

describe('times named in a query', () => {
  it('reads a month and year, a full date in either order, and a year as spans', () => {
    const asked = parseQueryTime(
      'What did Maria do in May 2023, on 3 June, 2023 or June 16, 2023?',
    );
    assert.deepEqual(asked.spans.map(days).sort(), [
      '2023-05-01..2023-05-31',
      '2023-06-03..2023-06-03',
      '2023-06-16..2023-06-16',
    ]);
    assert.deepEqual(parseQueryTime('Which races did John run in 2022?').spans.map(days), [
      '2022-01-01..2022-12-31',
    ]);
  });

  it('keeps a month named without a year as yearless, so it matches that month in any year', () => {
    const asked = parseQueryTime('When did Melanie go camping in June?');
    assert.deepEqual(asked.yearless, [{ month: 5 }]);
    assert.equal(asked.asksWhen, true);
  });

  it('reads "last year", "yesterday" and "two weeks ago" against the clock it is given', () => {
    const now = day('2024-03-13'); // a Wednesday
    const spans = (q: string) => parseQueryTime(q, now).spans.map(days);
    assert.deepEqual(spans('What did I read last year?'), ['2023-01-01..2023-12-31']);
    assert.deepEqual(spans('Who called yesterday?'), ['2024-03-12..2024-03-12']);
    assert.deepEqual(spans('What did we cook last Friday?'), ['2024-03-08..2024-03-08']);
    assert.deepEqual(spans('Where was I two weeks ago?'), ['2024-02-24..2024-03-02']);
  });

  it('does not take the verb "may" or a sum of money for a date', () => {
    const asked = parseQueryTime('Which restaurant may I suggest for a $2023 budget?');
    assert.deepEqual(asked, { asksWhen: false, spans: [], yearless: [] });
  });

  it('asks "when" for when-, what-year-, how-long- and before-an-event questions only', () => {
    for (const q of [
      'When did Caroline go to the support group?',
      'What year did Jon open his studio?',
      'How long has Melanie been practicing art?',
      'How many years ago did Tim move?',
      'Where did she live before she moved to Lisbon?',
    ]) {
      assert.equal(parseQueryTime(q).asksWhen, true, q);
    }
    for (const q of ['What is my sister called?', 'Where does Gina work?']) {
      assert.equal(hasTimeIntent(parseQueryTime(q)), false, q);
    }
  });
});

describe('the event a query asks about', () => {
  it('drops the times a query names and the words that led to them', () => {
    assert.equal(
      eventWords('What major achievement did Joanna accomplish in January 2022?'),
      'What major achievement did Joanna accomplish?',
    );
    assert.equal(eventWords('Which outdoor spot did Joanna visit in May?'), 'Which outdoor spot did Joanna visit?'); // prettier-ignore
    assert.equal(eventWords('Where was John between August 11 and August 15, 2023?'), 'Where was John?'); // prettier-ignore
    assert.equal(eventWords('How many pets did Andrew have, as of September 2023?'), 'How many pets did Andrew have?'); // prettier-ignore
  });

  it('keeps a query that names no time, or would be left with nothing to search for', () => {
    assert.equal(eventWords('When did Melanie paint a sunrise?'), 'When did Melanie paint a sunrise?'); // prettier-ignore
    assert.equal(eventWords('You may go now'), 'You may go now');
    assert.equal(eventWords('Yesterday?'), 'Yesterday?');
    assert.equal(eventWords('In May 2023'), 'In May 2023');
  });
});

describe("a memory's time", () => {
  it('takes the date its content opens with, and resolves the times its body names against it', () => {
    const time = memoryTime({
      content: '[1:56 pm on 8 May, 2023] Caroline: I went to a support group yesterday.',
      createdAt: saved,
    });
    assert.equal(days(time.at), '2023-05-08..2023-05-08');
    assert.deepEqual(time.mentions.map(days), ['2023-05-07..2023-05-07']);
  });

  it('falls back to the save time, and counts a date in the body as a mention', () => {
    const time = memoryTime({ content: 'On 3 June 2023 we adopted Max.', createdAt: saved });
    assert.equal(days(time.at), '2026-12-06..2026-12-06');
    assert.deepEqual(time.mentions.map(days), ['2023-06-03..2023-06-03']);
  });

  it("keeps a stored memory's time by id until its content or dates change", () => {
    const id = '00000000-0000-4000-8000-000000007123';
    const memory = { id, content: 'Adopted Max yesterday.', createdAt: saved, occurredAt: null };
    const first = timeOfMemory(memory);
    assert.deepEqual(first, memoryTime(memory));
    assert.equal(timeOfMemory({ ...memory }), first, 'read again, not recomputed');
    const edited = timeOfMemory({ ...memory, content: 'Adopted Max last week.' });
    assert.notEqual(edited, first);
    assert.deepEqual(edited, memoryTime({ ...memory, content: 'Adopted Max last week.' }));
    const dated = { ...memory, content: 'Adopted Max last week.', occurredAt: new Date('2023-07-03T13:36:00Z') }; // prettier-ignore
    assert.deepEqual(timeOfMemory(dated), memoryTime(dated));
    assert.equal(days(timeOfMemory(dated).at), '2023-07-03..2023-07-03');
  });

  it('takes occurredAt over the save time, and a stamp in the content over both', () => {
    const stamped = memoryTime({
      content: '[3 July, 2023] Melanie: Signed up for a pottery class yesterday.',
      createdAt: saved,
      occurredAt: saved,
    });
    assert.equal(days(stamped.at), '2023-07-03..2023-07-03');
    const time = memoryTime({
      content: 'Signed up for a pottery class yesterday.',
      createdAt: saved,
      occurredAt: new Date('2023-07-03T13:36:00Z'),
    });
    assert.equal(days(time.at), '2023-07-03..2023-07-03');
    assert.deepEqual(time.mentions.map(days), ['2023-07-02..2023-07-02']);
  });

  it('places "last week", "next month", "ten years ago" and "for four years" around its time', () => {
    const found = findTimes('last week; next month; ten years ago; for four years');
    const ref = day('2023-06-09'); // a Friday
    const resolved = found.map(({ expression: e }) => (e.kind === 'relative' ? days(e.resolve(ref)) : e.kind)); // prettier-ignore
    assert.deepEqual(resolved, [
      '2012-12-07..2013-12-08',
      '2023-05-29..2023-06-04',
      '2023-07-01..2023-07-31',
      '2019-06-09..2023-06-09',
    ]);
  });
});

describe('the time signal', () => {
  const stamped = (date: string, text: string) =>
    memoryTime({ content: `[${date}] ${text}`, createdAt: saved });

  it('scores a memory of the named month over one that only names some time', () => {
    const asked = parseQueryTime('What did Maria do in May 2023?');
    assert.equal(timeScore(asked, stamped('20 May, 2023', 'Maria: We baked bread.')), 2);
    assert.equal(timeScore(asked, stamped('2 June, 2023', 'Maria: We baked bread yesterday.')), 0); // prettier-ignore
  });

  it('for a "when" question, favours memories that place something in time', () => {
    const asked = parseQueryTime('When did Caroline go to the support group?');
    assert.equal(timeScore(asked, stamped('8 May, 2023', 'I went there yesterday.')), 1);
    assert.equal(timeScore(asked, stamped('8 May, 2023', 'The group was lovely.')), 0);
  });

  it('ranks the matching candidates, best score first and candidate order within a score', () => {
    const asked = parseQueryTime('When did Melanie go camping in June?');
    const times = new Map([
      ['a', stamped('27 June, 2023', 'We went camping.')],
      ['b', stamped('3 July, 2023', 'We went camping last week.')],
      ['c', stamped('27 June, 2023', 'We went camping last weekend.')],
      ['d', stamped('3 July, 2023', 'Camping is fun.')],
    ]);
    const list = timeList(asked, ['a', 'b', 'c', 'd'], (id) => times.get(id), 0.5);
    assert.equal(list.source, 'time');
    assert.equal(list.weight, 0.5);
    // c: June and a mention (3); a: June (2); b: "last week" from 3 July reaches into June (3).
    assert.deepEqual(list.items, [
      { id: 'b', rank: 1 },
      { id: 'c', rank: 2 },
      { id: 'a', rank: 3 },
    ]);
  });
});

describe('times in everyday phrasing', () => {
  it('finds "tomorrow", "tonight", weekdays and "a couple of days ago" in plain chat', () => {
    const ref = day('2023-11-09'); // a Thursday
    const spans = (text: string) =>
      findTimes(text).map(({ expression: e }) => (e.kind === 'relative' ? days(e.resolve(ref)) : e.kind)); // prettier-ignore
    assert.deepEqual(spans('Alright, see you tomorrow!'), ['2023-11-10..2023-11-10']);
    assert.deepEqual(spans('We are going out tonight.'), ['2023-11-09..2023-11-09']);
    assert.deepEqual(spans('I joined the club last Tues.'), ['2023-11-07..2023-11-07']);
    assert.deepEqual(spans('I adopted her a couple of days ago.'), ['2023-11-07..2023-11-07']);
    assert.deepEqual(spans('What a lovely day it was.'), []);
  });

  it('places news "since we last talked" in the month before it was said, for a "when" question', () => {
    const ref = day('2023-11-09');
    const spans = (text: string) =>
      findTimes(text).map(({ expression: e }) => (e.kind === 'relative' ? days(e.resolve(ref)) : e.kind)); // prettier-ignore
    for (const text of [
      'Since we last talked, I got a new place!',
      "Lots has happened since we spoke last - I'm engaged!",
      'Since our last chat I joined a band.',
      'Since the last time we talked I adopted a puppy.',
    ]) {
      assert.deepEqual(spans(text), ['2023-10-10..2023-11-09'], text);
    }
    // Since an event, not a conversation: no time to place.
    assert.deepEqual(spans("I've loved painting since I was a kid."), []);
    const asked = parseQueryTime('When did Audrey move to a new place?');
    const told = memoryTime({ content: '[9 November, 2023] Since we last talked, I moved!', createdAt: saved }); // prettier-ignore
    assert.equal(timeScore(asked, told), 1);
  });
});
