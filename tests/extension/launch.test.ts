import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { DebugManager, toSessionConfig } from '../../extension/src/debug';
import { configProblem, folderRelative, isEmptyConfig, launchArgs, launchConfigFor, LaunchConfigProvider } from '../../extension/src/launchConfig';
import { LaunchHost, ServerDebugAdapter, ServerDebugAdapterFactory } from '../../extension/src/launchSession';
import { ServerStatus, StartServerArgs } from '../../extension/src/protocol';
import * as fake from './fake/vscode';

describe('azmlinfsrv launch configuration (F5)', () => {
  let ws: string;
  beforeEach(() => {
    fake.reset();
    ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'azml-launch-')));
    fake.state.workspaceFolders = [ws];
  });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));
  const folder = () => ({ uri: vscode.Uri.file(ws), name: 'w', index: 0 }) as vscode.WorkspaceFolder;

  it('writes the script relative to ${workspaceFolder}', () => {
    assert.equal(folderRelative(path.join(ws, 'src', 'score.py'), ws), '${workspaceFolder}/src/score.py');
    assert.equal(folderRelative('/elsewhere/score.py', ws), '/elsewhere/score.py');
    assert.deepEqual(launchConfigFor(path.join(ws, 'score.py'), ws), { type: 'azmlinfsrv', request: 'launch', name: 'AzureML Scoring: score.py', entryScript: '${workspaceFolder}/score.py' });
  });

  it('F5 with no launch.json: an empty configuration becomes one for the active scoring script', async () => {
    const score = path.join(ws, 'score.py');
    fs.writeFileSync(score, 'def init():\n    pass\n\ndef run(d):\n    return d\n');
    fake.openEditor(score, fs.readFileSync(score, 'utf8'));
    assert.ok(isEmptyConfig({ type: '', request: '', name: '' }) && isEmptyConfig({ type: 'azmlinfsrv', request: '', name: '' }));
    const resolved = await new LaunchConfigProvider().resolveDebugConfiguration(folder(), { type: '', request: '', name: '' });
    assert.deepEqual(resolved, launchConfigFor(score, ws));
    const own = { type: 'azmlinfsrv', request: 'launch', name: 'mine', entryScript: '/x/score.py' };
    assert.equal(await new LaunchConfigProvider().resolveDebugConfiguration(folder(), own), own, 'a written configuration is left as it is');
  });

  it('"create a launch.json file" offers one configuration per scoring script of the folder', async () => {
    const score = path.join(ws, 'svc', 'score.py');
    fs.mkdirSync(path.dirname(score));
    fs.writeFileSync(score, 'def init():\n    pass\n\ndef run(d):\n    return d\n');
    fs.writeFileSync(path.join(ws, 'tools.py'), 'def run(x):\n    pass\n');
    fake.state.files = [score, path.join(ws, 'tools.py')];
    const configs = await new LaunchConfigProvider().provideDebugConfigurations(folder());
    assert.deepEqual(configs, [{ type: 'azmlinfsrv', request: 'launch', name: 'AzureML Scoring: score.py', entryScript: '${workspaceFolder}/svc/score.py' }]);
  });

  it('says plainly what is wrong with a configuration, and passes its settings on', () => {
    const exists = (p: string) => p === '/w/score.py';
    assert.match(configProblem({ type: 'azmlinfsrv', request: 'launch', name: 'x' }, exists) ?? '', /entryScript/);
    assert.match(configProblem({ type: 'azmlinfsrv', request: 'launch', name: 'x', entryScript: '/w/nope.py' }, exists) ?? '', /does not exist/);
    assert.match(configProblem({ type: 'azmlinfsrv', request: 'launch', name: 'x', entryScript: '/w/score.py', port: 70000 }, exists) ?? '', /not a TCP port/);
    assert.equal(configProblem({ type: 'azmlinfsrv', request: 'launch', name: 'x', entryScript: '/w/score.py', port: 5005 }, exists), undefined);
    assert.deepEqual(launchArgs({ type: 'azmlinfsrv', request: 'launch', name: 'x', entryScript: '/w/score.py', port: 5005, modelDir: '/m', env: { A: '1' } }), { port: 5005, modelDir: '/m', env: { A: '1' } });
    const refused = new LaunchConfigProvider().resolveDebugConfigurationWithSubstitutedVariables(folder(), { type: 'azmlinfsrv', request: 'launch', name: 'x', entryScript: path.join(ws, 'missing.py') });
    assert.equal(refused, undefined);
    assert.match(fake.state.messages[0].text, /missing\.py does not exist/);
  });
});

describe('the F5 session (inline debug adapter)', () => {
  function host() {
    const status = new fake.EventEmitter<ServerStatus>();
    const calls: { start: [string, Partial<StartServerArgs>, vscode.DebugSession][]; stops: number; released: number } = { start: [], stops: 0, released: 0 };
    let answer: ServerStatus = { state: 'running', url: 'http://127.0.0.1:5123' };
    const h: LaunchHost = {
      start: async (script, args, parent) => (calls.start.push([script, args, parent]), answer),
      stop: async () => calls.stops++,
      release: () => void calls.released++,
      onDidChangeStatus: status.event as unknown as vscode.Event<ServerStatus>,
    };
    return { h, calls, status, fail: (s: ServerStatus) => (answer = s) };
  }
  const session = { id: 'p1', name: 'AzureML Scoring: score.py' } as unknown as vscode.DebugSession;
  const tick = () => new Promise((r) => setTimeout(r, 5));

  function adapter(h: LaunchHost) {
    const desc = new ServerDebugAdapterFactory(h).createDebugAdapterDescriptor(session) as unknown as fake.DebugAdapterInlineImplementation;
    const a = desc.implementation as ServerDebugAdapter;
    const sent: { type: string; event?: string; command?: string; body?: { output?: string } }[] = [];
    a.onDidSendMessage((m) => void sent.push(m as (typeof sent)[0]));
    return { a, sent, req: (command: string, args?: unknown) => a.handleMessage({ seq: sent.length + 1, type: 'request', command, arguments: args } as vscode.DebugProtocolMessage) };
  }

  it('starts the server under the debugger as the parent of the workers; Stop stops the server', async () => {
    const { h, calls } = host();
    const { sent, req } = adapter(h);
    req('initialize');
    assert.deepEqual(sent.map((m) => m.event ?? m.command), ['initialize', 'initialized']);
    req('launch', { type: 'azmlinfsrv', request: 'launch', name: 'x', entryScript: '/w/score.py', port: 5123 });
    await tick();
    assert.deepEqual(calls.start.map(([s, a, p]) => [s, a, p.id]), [['/w/score.py', { port: 5123 }, 'p1']]);
    assert.ok(sent.some((m) => /Serving at http:\/\/127\.0\.0\.1:5123/.test(m.body?.output ?? '')));
    req('disconnect');
    await tick();
    assert.equal(calls.stops, 1);
    assert.equal(calls.released, 1);
    assert.equal(sent.at(-1)?.command, 'disconnect');
  });

  it('ends when the server stops some other way, and when it does not start', async () => {
    const first = host();
    const one = adapter(first.h);
    one.req('launch', { entryScript: '/w/score.py' });
    await tick();
    first.status.fire({ state: 'stopped' });
    assert.equal(one.sent.at(-1)?.event, 'terminated');
    assert.equal(first.calls.stops, 0, 'the server was already stopped');

    const second = host();
    second.fail({ state: 'failed', error: 'init() failed: ZeroDivisionError' });
    const two = adapter(second.h);
    two.req('launch', { entryScript: '/w/score.py' });
    await tick();
    assert.ok(two.sent.some((m) => /did not start: init\(\) failed: ZeroDivisionError/.test(m.body?.output ?? '')));
    assert.equal(two.sent.at(-1)?.event, 'terminated');
  });

  it('names worker sessions `score.py worker <pid>` and makes them children of the F5 session', async () => {
    const c = toSessionConfig({ type: 'debugpy', request: 'attach', connect: { host: '127.0.0.1', port: 1 }, workerPid: 4242 }, 'debugpy', '/w/score.py');
    assert.equal(c.name, 'score.py worker 4242');
    const manager = new DebugManager(() => undefined, () => undefined, () => '/w/score.py');
    manager.parent = session;
    await manager.attach([{ type: 'debugpy', request: 'attach', connect: { host: '127.0.0.1', port: 2 }, workerPid: 7 }]);
    const started = fake.state.debugStarts[0];
    assert.equal(started.name, 'score.py worker 7');
    assert.deepEqual(started.__options, { parentSession: session, lifecycleManagedByParent: true });
    manager.dispose();
  });
});

describe('the azmlinfsrv debugger contribution', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
  const debuggers = manifest.contributes.debuggers as { type: string; languages?: string[]; configurationAttributes: Record<string, { properties: Record<string, unknown> }>; initialConfigurations?: object[]; configurationSnippets?: { body: object }[] }[];

  it('declares the launch attributes, an initial configuration and a snippet', () => {
    const d = debuggers.find((x) => x.type === 'azmlinfsrv');
    assert.ok(d);
    assert.deepEqual(Object.keys(d.configurationAttributes.launch.properties).sort(), ['entryScript', 'env', 'modelDir', 'port']);
    assert.deepEqual(d.initialConfigurations, [{ type: 'azmlinfsrv', request: 'launch', name: 'AzureML Scoring: score.py', entryScript: '${workspaceFolder}/score.py' }]);
    assert.equal((d.configurationSnippets?.[0].body as { type: string }).type, 'azmlinfsrv');
    assert.deepEqual(d.languages, ['python'], 'F5 in a Python file offers it');
  });

  it('the attach-only type does not claim Python files (F5 goes to the launch type)', () => {
    assert.equal(debuggers.find((x) => x.type === 'azmlinfsrv-debugpy')?.languages, undefined);
  });
});
