import assert from 'node:assert/strict';
import { it } from 'node:test';
import { PROGRESS_BEATS_AFTER_MS, progressBeat } from '../../activities/heartbeat.ts';

it('progress heartbeats start once the activity has run PROGRESS_BEATS_AFTER_MS', () => {
  let clock = 1_000;
  let beats = 0;
  const onProgress = progressBeat(
    () => beats++,
    () => clock,
  );
  onProgress();
  clock += PROGRESS_BEATS_AFTER_MS - 1;
  onProgress();
  assert.equal(beats, 0, 'a batch done within the first seconds sends no heartbeat');
  clock += 1;
  onProgress();
  onProgress();
  assert.equal(beats, 2, 'a longer one beats on every progress from then on');
});
