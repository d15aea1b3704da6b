import { strict as assert } from 'assert';
import { toCurl, joinUrl } from '../../extension/src/curl';
import { RequestHistory, HistoryEntry, HISTORY_KEY, MAX_STORED_BODY, historyLabel } from '../../extension/src/history';
import { formatStatus } from '../../extension/src/scoringServer/statusText';
import { parseHeaders, formatHeaders } from '../../extension/src/panelMessages';
import { expandPath } from '../../extension/src/common/settings';
import * as os from 'os';
import * as path from 'path';
import { Memento } from './fake/memento';

describe('status formatting', () => {
  it('shows each state as the issue describes', () => {
    assert.equal(formatStatus({ state: 'stopped' }).text, '$(circle-slash) Scoring: stopped');
    assert.equal(formatStatus({ state: 'starting', entryScript: '/w/score.py' }).text, '$(sync~spin) Scoring: starting…');
    const running = formatStatus({ state: 'running', port: 5123, url: 'http://127.0.0.1:5123', pid: 10, workerPids: [11, 12], entryScript: '/w/score.py' });
    assert.equal(running.text, '$(radio-tower) Scoring: running :5123');
    assert.match(running.tooltip, /^AzureML: score\.py running at http:\/\/127\.0\.0\.1:5123\n/);
    assert.match(running.tooltip, /Workers: 11, 12/);
    const failed = formatStatus({ state: 'failed', error: 'ZeroDivisionError: division by zero' });
    assert.equal(failed.text, '$(error) Scoring: failed');
    assert.equal(failed.background, 'error');
    assert.match(failed.tooltip, /ZeroDivisionError/);
  });

  it('marks a debug session', () => {
    assert.equal(formatStatus({ state: 'running', port: 1, debug: true }).text, '$(debug-alt) Scoring: running :1 (debug)');
  });
});

describe('Copy as curl', () => {
  it('builds a POSIX command with quoted headers and JSON body', () => {
    const cmd = toCurl({ method: 'post', path: '/score', headers: { 'Content-Type': 'application/json' }, body: '{"name": "O\'Brien"}' }, 'http://127.0.0.1:5001/');
    assert.equal(cmd, `curl -sS -X POST http://127.0.0.1:5001/score -H 'Content-Type: application/json' --data-binary '{"name": "O'\\''Brien"}'`);
  });

  it('sends a body file as binary, and GET without a body', () => {
    assert.equal(toCurl({ method: 'POST', path: 'score', headers: { 'Content-Type': 'image/png' }, bodyFile: '/w/my pics/sample.png' }, 'http://h:1'), "curl -sS -X POST http://h:1/score -H 'Content-Type: image/png' --data-binary @'/w/my pics/sample.png'");
    assert.equal(toCurl({ method: 'GET', path: '/score?name=x' }, 'http://h:1'), "curl -sS -X GET 'http://h:1/score?name=x'");
  });

  it('decodes a base64 body through a pipe', () => {
    assert.equal(toCurl({ method: 'POST', path: '/score', body: 'AAE=', isBase64: true }, 'http://h:1'), "printf %s AAE= | base64 -d | curl -sS -X POST http://h:1/score --data-binary @-");
  });

  it('joins base URL and path', () => {
    assert.equal(joinUrl('http://h:1///', '/a'), 'http://h:1/a');
    assert.equal(joinUrl('http://h:1', ''), 'http://h:1/');
  });
});

describe('request history', () => {
  const entry = (body: string, extra: Partial<HistoryEntry> = {}): HistoryEntry => ({ method: 'POST', path: '/score', headers: { 'Content-Type': 'application/json' }, body, time: '2024-01-01T10:00:00Z', ...extra });

  it('keeps the most recent first, without duplicates, capped', async () => {
    const m = new Memento();
    const h = new RequestHistory(m, 3);
    await h.add(entry('1'));
    await h.add(entry('2'));
    await h.add(entry('1', { status: 200 }));
    assert.deepEqual(h.list().map((e) => e.body), ['1', '2']);
    assert.equal(h.list()[0].status, 200);
    await h.add(entry('3'));
    await h.add(entry('4'));
    assert.deepEqual(h.list().map((e) => e.body), ['4', '3', '1']);
    assert.ok(Array.isArray(m.data.get(HISTORY_KEY)));
  });

  it('does not store huge bodies, and clears', async () => {
    const h = new RequestHistory(new Memento());
    await h.add(entry('x'.repeat(MAX_STORED_BODY + 1)));
    assert.equal(h.list().length, 0);
    await h.add(entry('a'));
    await h.clear();
    assert.deepEqual(h.list(), []);
  });

  it('survives a corrupt memento value', () => {
    const m = new Memento();
    m.data.set(HISTORY_KEY, 'nonsense');
    assert.deepEqual(new RequestHistory(m).list(), []);
  });

  it('labels entries with method, path and status', () => {
    assert.match(historyLabel(entry('1', { status: 200 })), /^POST \/score → 200/);
  });
});

describe('panel headers text', () => {
  it('parses Name: value lines, skipping blanks and comments', () => {
    assert.deepEqual(parseHeaders('Content-Type: application/json\n\n# note\nX-Id:  a:b \nbroken'), { 'Content-Type': 'application/json', 'X-Id': 'a:b' });
    assert.equal(formatHeaders({ A: '1', B: '2' }), 'A: 1\nB: 2');
  });
});

describe('settings paths', () => {
  it('expands ${workspaceFolder}, ~ and relative paths', () => {
    assert.equal(expandPath('${workspaceFolder}/.venv/bin/python', '/ws'), '/ws/.venv/bin/python');
    assert.equal(expandPath('~/py/bin/python', '/ws'), path.join(os.homedir(), 'py/bin/python'));
    assert.equal(expandPath('src/score.py', '/ws'), '/ws/src/score.py');
    assert.equal(expandPath('python3', '/ws'), 'python3');
    assert.equal(expandPath('', '/ws'), '');
  });
});
