/**
 * The one server state shown everywhere: the status bar's text, colour, click and context keys
 * for each state, the brief "reloaded", "paused in the debugger" from the debug adapter's
 * events, and the start progress that closes as soon as the state leaves starting.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { COMMANDS } from '../../extension/src/common/constants';
import { lineLevel } from '../../extension/src/common/logging';
import { ServerStatus } from '../../extension/src/protocol';
import { Controller } from '../../extension/src/scoringServer/controller';
import { isOurSession, PausedSessions, watchDebugPauses } from '../../extension/src/scoringServer/debugPause';
import { StatusBar } from '../../extension/src/scoringServer/statusBar';
import { firstLine, formatStatus, isNewReload, shownState, startingWords } from '../../extension/src/scoringServer/statusText';
import * as fake from './fake/vscode';
import { until } from './until';

const SCRIPT = '/w/score.py';
const running: ServerStatus = { state: 'running', port: 5001, url: 'http://127.0.0.1:5001', entryScript: SCRIPT };
const reloadFailed: ServerStatus = {
  ...running,
  lastReload: { ok: false, time: 2 },
  error: 'init() failed: RuntimeError: model file missing (score.py:7)',
  errorLocation: { file: SCRIPT, line: 7 },
};

describe('the shown state', () => {
  it('is one of stopped, starting, paused, running, reloading, reloaded, reload failed, failed', () => {
    assert.equal(shownState({ state: 'stopped' }), 'stopped');
    assert.equal(shownState({ state: 'failed' }, { paused: true }), 'failed');
    assert.equal(shownState({ state: 'starting', phase: 'init' }), 'starting');
    assert.equal(shownState({ state: 'starting', phase: 'init' }, { paused: true }), 'paused', 'paused in init(), not "waiting"');
    assert.equal(shownState(running), 'running');
    assert.equal(shownState({ ...running, reloading: true, lastReload: { ok: false, time: 1 } }), 'reloading');
    assert.equal(shownState(reloadFailed, { reloaded: true }), 'reloadFailed');
    assert.equal(shownState({ ...running, lastReload: { ok: true, time: 3 } }, { reloaded: true }), 'reloaded');
    assert.equal(shownState(running, { paused: true }), 'paused');
  });

  it('says what a start is doing', () => {
    assert.equal(startingWords({ state: 'starting' }), 'starting the server');
    assert.equal(startingWords({ state: 'starting', phase: 'waitingForDebugger' }), 'waiting for the debugger');
    assert.equal(startingWords({ state: 'starting', phase: 'importing', entryScript: SCRIPT }), 'importing score.py');
    assert.equal(startingWords({ state: 'starting', phase: 'init' }), 'running init()');
    assert.equal(startingWords({ state: 'starting', phase: 'init' }, { paused: true }), 'paused in the debugger');
  });

  it('tells a new reload that worked from the last one', () => {
    const first = { ...running, lastReload: { ok: true, time: 5 } };
    assert.equal(isNewReload(running, first), true);
    assert.equal(isNewReload(first, { ...first, workerPids: [3] }), false, 'the same reload');
    assert.equal(isNewReload(first, { ...first, lastReload: { ok: true, time: 6 } }), true);
    assert.equal(isNewReload(running, reloadFailed), false, 'a failed one is not "reloaded"');
  });

  it('cuts an error to its first line', () => {
    assert.equal(firstLine('a\nb'), 'a');
    assert.equal(firstLine('x'.repeat(80), 10), `${'x'.repeat(9)}…`);
  });
});

describe('status bar text, colour and click for each state', () => {
  it('stopped, starting with its phase, running, failed', () => {
    assert.deepEqual(formatStatus({ state: 'stopped' }).text, '$(circle-slash) Scoring: stopped');
    assert.equal(formatStatus({ state: 'starting', phase: 'init' }).text, '$(sync~spin) Scoring: starting: running init()…');
    assert.equal(formatStatus({ state: 'starting', phase: 'waitingForDebugger', debug: true }).text, '$(sync~spin) Scoring: starting: waiting for the debugger… (debug)');
    assert.equal(formatStatus(running).text, '$(radio-tower) Scoring: running :5001');
    const failed = formatStatus({ state: 'failed', error: 'boom' });
    assert.deepEqual([failed.text, failed.background, failed.command], ['$(error) Scoring: failed', 'error', COMMANDS.statusMenu]);
  });

  it('a failed reload: warning colour, the error, and a click that opens it', () => {
    const p = formatStatus(reloadFailed);
    assert.equal(p.text, '$(warning) Scoring: running :5001, reload failed: init() failed: RuntimeError: model file missing (score.py:7)');
    assert.equal(p.background, 'warning');
    assert.equal(p.command, COMMANDS.goToError);
    assert.match(p.tooltip, /previous code still answers/);
    assert.equal(formatStatus({ ...reloadFailed, errorLocation: undefined }).command, COMMANDS.statusMenu);
  });

  it('reloading, reloaded, paused', () => {
    assert.equal(formatStatus({ ...running, reloading: true }).text, '$(sync~spin) Scoring: running :5001, reloading…');
    assert.equal(formatStatus(running, { reloaded: true }).text, '$(check) Scoring: running :5001, reloaded');
    assert.equal(formatStatus(running, { paused: true }).text, '$(debug-pause) Scoring: paused in the debugger :5001');
    assert.equal(formatStatus({ state: 'starting', phase: 'init' }, { paused: true }).text, '$(debug-pause) Scoring: paused in the debugger');
  });
});

describe('StatusBar', () => {
  beforeEach(() => fake.reset());

  it('sets the context keys and shows "reloaded" for a moment after a reload that worked', async () => {
    const bar = new StatusBar();
    bar.reloadedMs = 50;
    const item = fake.state.statusItems[0];
    assert.equal(fake.contextKeys()['azmlinfsrv.serverState'], 'stopped');
    bar.update(running);
    assert.deepEqual([item.text, fake.contextKeys()['azmlinfsrv.serverState']], ['$(radio-tower) Scoring: running :5001', 'running']);
    bar.update({ ...running, reloading: true });
    assert.equal(fake.contextKeys()['azmlinfsrv.shownState'], 'reloading');
    bar.update({ ...running, lastReload: { ok: true, time: 7 } });
    assert.equal(item.text, '$(check) Scoring: running :5001, reloaded');
    bar.update({ ...running, lastReload: { ok: true, time: 7 }, workerPids: [4] }); // the same reload: the moment goes on
    assert.match(item.text, /reloaded$/);
    await until(() => item.text === '$(radio-tower) Scoring: running :5001');
    bar.update(reloadFailed);
    assert.equal(item.backgroundColor.id, 'statusBarItem.warningBackground');
    assert.equal(item.command, COMMANDS.goToError);
    assert.equal(fake.contextKeys()['azmlinfsrv.shownState'], 'reloadFailed');
    bar.update({ state: 'stopped' });
    assert.deepEqual([item.backgroundColor, fake.contextKeys()['azmlinfsrv.serverState']], [undefined, 'stopped']);
    bar.dispose();
  });
});

describe('paused in the debugger', () => {
  beforeEach(() => fake.reset());

  it('follows stopped, continued and resuming requests of each session', () => {
    const p = new PausedSessions();
    assert.equal(p.fromAdapter('a', { type: 'event', event: 'stopped' }), true);
    assert.equal(p.fromAdapter('b', { type: 'event', event: 'stopped' }), false, 'still paused');
    assert.equal(p.fromAdapter('a', { type: 'response', command: 'next', success: true }), false, 'b is paused');
    assert.equal(p.fromAdapter('b', { type: 'event', event: 'output' }), false);
    assert.equal(p.fromAdapter('b', { type: 'event', event: 'continued' }), true);
    assert.equal(p.any, false);
    p.fromAdapter('a', { type: 'event', event: 'stopped' });
    assert.equal(p.ended('a'), true);
  });

  it('watches only the sessions of our server', () => {
    assert.equal(isOurSession({ type: 'debugpy', request: 'attach', name: 'w', workerPid: 4 }), true);
    assert.equal(isOurSession({ type: 'azmlinfsrv', request: 'launch', name: 'x' }), true);
    assert.equal(isOurSession({ type: 'debugpy', request: 'attach', name: 'terminal', processId: 9 }), false);
    const heard: boolean[] = [];
    const sub = watchDebugPauses((p) => heard.push(p));
    const factory = fake.state.debugTrackerFactories.get('*');
    assert.equal(factory.createDebugAdapterTracker({ id: 't', configuration: { type: 'debugpy', processId: 9 } }), undefined);
    const tracker = factory.createDebugAdapterTracker({ id: 's1', configuration: { type: 'debugpy', workerPid: 4 } });
    tracker.onDidSendMessage({ type: 'event', event: 'stopped', body: { reason: 'breakpoint' } });
    tracker.onDidSendMessage({ type: 'response', command: 'continue', success: true });
    tracker.onDidSendMessage({ type: 'event', event: 'stopped' });
    tracker.onExit();
    assert.deepEqual(heard, [true, false, true, false]);
    sub.dispose();
  });
});

describe('the start progress', () => {
  let ws: string;
  beforeEach(() => {
    fake.reset();
    ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'azml-progress-')));
    fs.writeFileSync(path.join(ws, 'score.py'), 'def init():\n    pass\n\ndef run(d):\n    return d\n');
    fake.state.workspaceFolders = [ws];
    fake.state.activeEditor = { path: path.join(ws, 'score.py'), text: 'def init():\n    pass\n\ndef run(d):\n    return d\n' };
  });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('says what the start does and closes as the state leaves starting, before the answer', async () => {
    let answer: (s: ServerStatus) => void = () => undefined;
    const daemon = {
      command: async <T>(name: string): Promise<T> => {
        if (name.endsWith('.startServer')) {
          return new Promise<T>((resolve) => (answer = resolve as (s: ServerStatus) => void));
        }
        return { state: 'stopped' } as T;
      },
    };
    const views: [string, boolean][] = [];
    const logs = { appendLine: () => undefined, show: () => undefined };
    const debug = { attach: async () => 0, stopAll: async () => undefined, isAttached: () => false };
    const ctl = new Controller({ ensure: async () => daemon, current: () => daemon }, { update: (s, paused) => views.push([s.state, !!paused]) }, logs, debug);
    const started = ctl.start();
    await until(() => fake.state.progress.length === 1);
    const progress = fake.state.progress[0];
    ctl.applyStatus({ state: 'starting', phase: 'importing', entryScript: path.join(ws, 'score.py') });
    ctl.applyStatus({ state: 'starting', phase: 'init' });
    ctl.setDebugPaused(true);
    assert.deepEqual(progress.messages, ['score.py: starting the server…', 'score.py: importing score.py…', 'score.py: running init()…', 'score.py: paused in the debugger…']);
    assert.deepEqual(views.at(-1), ['starting', true]);
    ctl.setDebugPaused(false);
    ctl.applyStatus({ ...running, entryScript: path.join(ws, 'score.py') });
    await until(() => progress.closed);
    answer({ ...running, entryScript: path.join(ws, 'score.py') });
    assert.equal((await started)?.state, 'running');
  });
});

describe('log levels of the daemon and the language client', () => {
  it('reads the client prefix and Python logging, and carries a level over continuation lines', () => {
    assert.deepEqual(lineLevel('[Error - 10:00:01 AM] Connection to server got closed.'), { level: 'error', text: 'Connection to server got closed.' });
    assert.deepEqual(lineLevel('[Trace - 10:00:01 AM] Sending request'), { level: 'info', text: '[Trace - 10:00:01 AM] Sending request' });
    assert.deepEqual(lineLevel('2026-12-07 10:00:02,123 INFO azmlinfsrv.daemon - scoring server: starting -> running'), { level: 'info', text: 'azmlinfsrv.daemon - scoring server: starting -> running' });
    assert.deepEqual(lineLevel('2026-12-07 10:00:02,123 ERROR asyncio - boom'), { level: 'error', text: 'asyncio - boom' });
    assert.deepEqual(lineLevel('  File "x.py", line 1', 'error'), { level: 'error', text: '  File "x.py", line 1' });
  });
});
