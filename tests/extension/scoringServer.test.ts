/** In-process tests of the pure parts the controller hands off to. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { COMMANDS, SECTION } from '../../extension/src/common/constants';
import { AttachConfiguration, ServerStatus } from '../../extension/src/protocol';
import { attachTargets } from '../../extension/src/scoringServer/attachCommand';
import { servesAlready } from '../../extension/src/scoringServer/lifecycle';
import { statusMenuItems } from '../../extension/src/scoringServer/statusMenu';
import { describe as describeStatus, formatStatus, isActive } from '../../extension/src/scoringServer/statusText';
import { reactionsTo } from '../../extension/src/scoringServer/statusTracker';

const conn = (port: number): AttachConfiguration => ({ type: 'debugpy', request: 'attach', connect: { host: '127.0.0.1', port } });

describe('status text (one place for every state word)', () => {
  it('is active while starting or running only', () => {
    assert.deepEqual(
      (['stopped', 'starting', 'running', 'failed'] as const).map((state) => isActive({ state })),
      [false, true, true, false],
    );
  });

  it('describes each state in one sentence that the tooltip reuses', () => {
    const running: ServerStatus = { state: 'running', entryScript: '/w/score.py', url: 'http://127.0.0.1:5001', port: 5001, debug: true };
    assert.equal(describeStatus(running), 'score.py running at http://127.0.0.1:5001 (debug)');
    assert.equal(describeStatus({ state: 'failed', error: 'boom' }), 'scoring server failed: boom');
    assert.equal(describeStatus({ state: 'stopped' }), 'Scoring server stopped');
    for (const s of [running, { state: 'failed', error: 'boom' } as ServerStatus, { state: 'starting' } as ServerStatus]) {
      assert.ok(formatStatus(s).tooltip.startsWith(`AzureML: ${describeStatus(s)}`), formatStatus(s).tooltip);
    }
  });
});

describe('status reactions', () => {
  const none = () => false;
  it('announces a failure once per distinct error', () => {
    const failed: ServerStatus = { state: 'failed', error: 'e1' };
    assert.equal(reactionsTo({ state: 'starting' }, failed, none).failure, true);
    assert.equal(reactionsTo(failed, { ...failed }, none).failure, false);
    assert.equal(reactionsTo(failed, { state: 'failed', error: 'e2' }, none).failure, true);
  });

  it('re-attaches a debug server when workers change or a listener is new', () => {
    const prev: ServerStatus = { state: 'running', debug: true, workerPids: [1] };
    assert.equal(reactionsTo(prev, { ...prev, workerPids: [2] }, none).reattach, true);
    assert.equal(reactionsTo(prev, { ...prev, workerPids: [1], debugConfigurations: [conn(9)] }, none).reattach, true);
    assert.equal(reactionsTo(prev, { ...prev, workerPids: [1], debugConfigurations: [conn(9)] }, () => true).reattach, false);
    assert.equal(reactionsTo(prev, { state: 'running', workerPids: [2] }, none).reattach, false, 'not a debug server');
    assert.equal(reactionsTo(prev, { state: 'stopped', debug: true }, none).reattach, false, 'not active');
  });
});

describe('start: reuse or restart', () => {
  it('reuses a server only for the same script in the same mode', () => {
    const cur: ServerStatus = { state: 'running', entryScript: '/w/score.py' };
    assert.equal(servesAlready(cur, '/w/./score.py', false), true);
    assert.equal(servesAlready(cur, '/w/score.py', true), false);
    assert.equal(servesAlready(cur, '/w/other_score.py', false), false);
    assert.equal(servesAlready({ ...cur, state: 'failed' }, '/w/score.py', false), false);
  });
});

describe('attach targets', () => {
  it('lists our server first and hides the found servers that are ours', () => {
    const st: ServerStatus = { state: 'running', pid: 10, workerPids: [11], port: 5001, entryScript: '/w/score.py' };
    const items = attachTargets(st, [
      { pid: 10, workerPids: [11] },
      { pid: 20, workerPids: [21, 22], port: 5002, entryScript: '/t/score.py' },
    ]);
    assert.deepEqual(
      items.map((i) => [i.label, i.description, i.pid]),
      [
        ['$(server-process) Scoring server started here', 'PID 10 :5001', undefined],
        ['$(terminal) azmlinfsrv PID 20', ':5002 workers 21, 22', 20],
      ],
    );
    assert.deepEqual(attachTargets({ state: 'stopped' }, []), []);
  });
});

describe('status menu', () => {
  it('offers what the state allows, with command ids from constants', () => {
    const stopped = statusMenuItems({ state: 'stopped' }).map((i) => i.command);
    assert.deepEqual(stopped, [COMMANDS.start, COMMANDS.debug, COMMANDS.sendRequest, COMMANDS.showLogs]);
    const running = statusMenuItems({ state: 'running', url: 'http://127.0.0.1:5001/' });
    assert.deepEqual(
      running.map((i) => i.command),
      [COMMANDS.stop, COMMANDS.restart, COMMANDS.attach, COMMANDS.sendRequest, 'vscode.open', COMMANDS.showLogs],
    );
    assert.equal(running[4].description, 'http://127.0.0.1:5001/swagger.json');
    const failed = statusMenuItems({ state: 'failed', errorLocation: { file: '/w/score.py', line: 8 } });
    assert.equal(failed.find((i) => i.command === COMMANDS.goToError)?.description, 'score.py:8');
    const reloadFailed = statusMenuItems({ state: 'running', lastReload: { ok: false, time: 1 }, errorLocation: { file: '/w/score.py', line: 7 } });
    assert.equal(reloadFailed.find((i) => i.command === COMMANDS.goToError)?.description, 'score.py:7');
    assert.ok(reloadFailed.some((i) => i.command === COMMANDS.stop), 'still running: Stop');
  });
});

describe('constants match package.json', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
  it('declares exactly the commands of COMMANDS', () => {
    const declared = manifest.contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepEqual(declared, Object.values(COMMANDS).sort());
  });
  it('names every setting under SECTION', () => {
    for (const key of Object.keys(manifest.contributes.configuration.properties)) {
      assert.ok(key.startsWith(`${SECTION}.`), key);
    }
  });
});
