import { strict as assert } from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import { chooseDebugType, configKey, DebugAdapterFactory, DebugManager, KEY_FIELD, OWN_DEBUG_TYPE, toSessionConfig } from '../../extension/src/debug';
import { AttachConfiguration } from '../../extension/src/protocol';
import * as fake from './fake/vscode';

const connect = (port: number): AttachConfiguration => ({ type: 'debugpy', request: 'attach', name: `azmlinfsrv worker ${port}`, connect: { host: '127.0.0.1', port }, justMyCode: true });

describe('debug configuration selection', () => {
  beforeEach(() => fake.reset());

  it('uses debugpy when the Python Debugger extension contributes it, our own type otherwise', () => {
    const debugpyExt = { packageJSON: { contributes: { debuggers: [{ type: 'debugpy' }] } } };
    const other = { packageJSON: { contributes: { debuggers: [{ type: 'node' }] } } };
    assert.equal(chooseDebugType([other, debugpyExt]), 'debugpy');
    assert.equal(chooseDebugType([other, { packageJSON: {} }]), OWN_DEBUG_TYPE);
  });

  it('keys configurations by listener or pid', () => {
    assert.equal(configKey(connect(4000)), 'connect:127.0.0.1:4000');
    assert.equal(configKey({ type: 'debugpy', request: 'attach', processId: 77 }), 'pid:77');
  });

  it('keeps the daemon configuration, swapping the type and naming it', () => {
    const c = toSessionConfig({ type: 'debugpy', request: 'attach', processId: 77, justMyCode: true }, OWN_DEBUG_TYPE);
    assert.equal(c.type, OWN_DEBUG_TYPE);
    assert.equal(c.processId, 77);
    assert.equal(c.justMyCode, true);
    assert.equal(c.name, 'AzureML Scoring: attach to PID 77');
    assert.equal(c[KEY_FIELD], 'pid:77');
    assert.equal(toSessionConfig(connect(1), 'debugpy').name, 'azmlinfsrv worker 1');
  });

  it('talks to the worker\'s debugpy listener directly, and runs the bundled debugpy adapter (launch.py adapter) for PID attach', () => {
    const session = (configuration: object) => ({ configuration }) as unknown as vscode.DebugSession;
    const f = new DebugAdapterFactory(() => '/venv/bin/python', '/ext');
    const server = f.createDebugAdapterDescriptor(session(toSessionConfig(connect(4711), OWN_DEBUG_TYPE))) as unknown as fake.DebugAdapterServer;
    assert.ok(server instanceof fake.DebugAdapterServer);
    assert.deepEqual([server.port, server.host], [4711, '127.0.0.1']);
    const exe = f.createDebugAdapterDescriptor(session({ type: OWN_DEBUG_TYPE, request: 'attach', processId: 5 })) as unknown as fake.DebugAdapterExecutable;
    assert.ok(exe instanceof fake.DebugAdapterExecutable);
    assert.equal(exe.command, '/venv/bin/python');
    assert.deepEqual(exe.args, [path.join('/ext', 'bundled', 'tool', 'launch.py'), 'adapter']);
    assert.throws(() => new DebugAdapterFactory(() => undefined, '/ext').createDebugAdapterDescriptor(session({ request: 'attach', processId: 5 })));
  });

  it('attaches once per worker and again after the session ended', async () => {
    const m = new DebugManager(() => undefined);
    const sessions: vscode.DebugSession[] = [];
    const sub = vscode.debug.onDidStartDebugSession((s) => sessions.push(s));
    assert.equal(await m.attach([connect(1), connect(2)]), 2);
    assert.equal(await m.attach([connect(1), connect(2), connect(3)]), 1);
    assert.deepEqual(
      fake.state.debugStarts.map((c) => [c.type, c.connect.port]),
      [
        [OWN_DEBUG_TYPE, 1],
        [OWN_DEBUG_TYPE, 2],
        [OWN_DEBUG_TYPE, 3],
      ],
    );
    assert.equal(m.activeCount, 3);
    // The worker of port 1 went away (reload): its session ends; a new one may attach later.
    fake.terminateSession({ id: 'another', configuration: fake.state.debugStarts[0] });
    assert.equal(m.isAttached(connect(1)), true, 'a session that is not ours does not count');
    fake.terminateSession(sessions[0]);
    assert.equal(m.isAttached(connect(1)), false);
    sub.dispose();
    await m.stopAll();
    assert.equal(m.activeCount, 0);
    assert.equal(fake.state.debugStops.length, 2);
    m.dispose();
  });

  it('uses the debugpy type when ms-python.debugpy is installed', async () => {
    fake.state.extensions = [{ id: 'ms-python.debugpy', packageJSON: { contributes: { debuggers: [{ type: 'debugpy' }] } } }];
    const m = new DebugManager(() => ({ uri: vscode.Uri.file('/w'), name: 'w', index: 0 }));
    await m.attach([connect(5)]);
    assert.equal(fake.state.debugStarts[0].type, 'debugpy');
    m.dispose();
  });

  it('forgets a configuration VS Code refused to start', async () => {
    fake.state.startDebuggingResult = false;
    const m = new DebugManager(() => undefined);
    assert.equal(await m.attach([connect(9)]), 0);
    assert.equal(m.isAttached(connect(9)), false);
    m.dispose();
  });
});
