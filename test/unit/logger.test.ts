import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../infra/config.ts';
import { createLogger, type LogFormat } from '../../infra/logger.ts';

/** A logger over a collector that is, or is not, a terminal. */
function logTo(format: LogFormat, isTTY: boolean, options: { showPid?: boolean } = {}) {
  const lines: string[] = [];
  const stream = { isTTY, write: (text: string) => lines.push(text) };
  return { lines, logger: createLogger('info', { format, stream, ...options }) };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

describe('log format', () => {
  it('writes JSON lines when stdout is not a terminal (auto)', () => {
    const { lines, logger } = logTo('auto', false);
    logger.info({ user: 'u1' }, 'saved');
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(record.msg, 'saved');
    assert.equal(record.user, 'u1');
    assert.equal(record.level, 30);
  });

  it('writes one coloured readable line on a terminal (auto)', () => {
    const noColor = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    const { lines, logger } = logTo('auto', true);
    if (noColor !== undefined) process.env.NO_COLOR = noColor;
    logger.warn({ component: 'postgres', port: 5433, state: 'restarting' }, 'server died');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, ANSI, 'coloured');
    const plain = lines[0]!.replace(ANSI, '');
    assert.match(
      plain,
      /^\d{2}:\d{2}:\d{2}\.\d{3} WARN +\[postgres\] server died port=5433 state=restarting\n$/,
    );
  });

  it('is JSON on a terminal when LOG_FORMAT=json, and text without colours in a pipe when pretty', () => {
    const json = logTo('json', true);
    json.logger.info('hello');
    assert.equal((JSON.parse(json.lines[0]!) as { msg: string }).msg, 'hello');
    const pretty = logTo('pretty', false);
    pretty.logger.info({ path: '/v1/search', note: 'two words' }, 'request');
    assert.doesNotMatch(pretty.lines[0]!, ANSI);
    assert.match(pretty.lines[0]!, / INFO +request path=\/v1\/search note="two words"\n$/);
  });

  it('escapes control characters, so a logged value cannot drive the terminal', () => {
    const { lines, logger } = logTo('pretty', false);
    logger.info({ content: 'a\u001b[2Jb' }, 'line one\nline two \u009b');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.split('\n').length, 2, 'one line and its newline');
    assert.ok(!lines[0]!.includes('\u001b') && !lines[0]!.includes('\u009b'), lines[0]);
    assert.match(lines[0]!, /line one\\nline two \\u009b/);
  });

  it('shows an error inline, with its stack below for errors', () => {
    const { lines, logger } = logTo('pretty', false);
    logger.warn({ err: new Error('timed out') }, 'strategy failed');
    assert.match(lines[0]!, /strategy failed err="timed out"\n$/);
    logger.error({ err: new Error('boom') }, 'request failed');
    const [first, ...stack] = lines[1]!.trimEnd().split('\n');
    assert.match(first!, /ERROR request failed err=boom$/);
    assert.ok(stack.length > 0 && stack.every((frame) => frame.startsWith('    at ')));
  });

  it('shows the process id when several processes share the terminal', () => {
    const { lines, logger } = logTo('pretty', false, { showPid: true });
    logger.info('serving');
    assert.match(lines[0]!, new RegExp(` INFO +${process.pid} serving\\n$`));
  });

  it('LOG_FORMAT takes pretty, json or auto, and names itself otherwise', () => {
    assert.equal(loadConfig({}).LOG_FORMAT, 'auto');
    assert.equal(loadConfig({ LOG_FORMAT: 'pretty' }).LOG_FORMAT, 'pretty');
    assert.throws(
      () => loadConfig({ LOG_FORMAT: 'yaml' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /LOG_FORMAT: expected pretty, json or auto \(got "yaml"\)/.test(error.message),
    );
  });
});
