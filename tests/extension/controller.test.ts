import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { Controller } from '../../extension/src/scoringServer/controller';
import { GO_TO_ERROR, SHOW_LOGS } from '../../extension/src/scoringServer/failureNotice';
import { AttachConfiguration, DaemonConnection, ServerStatus } from '../../extension/src/protocol';
import * as fake from './fake/vscode';
import { until } from './until';

type Handler = (arg: any) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

class FakeDaemon implements DaemonConnection {
  calls: { name: string; arg: any }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  handlers: Record<string, Handler> = {};
  async command<T>(name: string, arg: object): Promise<T> {
    this.calls.push({ name, arg });
    const h = this.handlers[name.replace('azmlinfsrv.daemon.', '')];
    if (!h) {
      throw new Error(`unexpected command ${name}`);
    }
    return (await h(arg)) as T;
  }
  names(): string[] {
    return this.calls.map((c) => c.name.replace('azmlinfsrv.daemon.', ''));
  }
}

class FakeDebug {
  attached: AttachConfiguration[] = [];
  stopped = 0;
  async attach(configs: AttachConfiguration[]): Promise<number> {
    const fresh = configs.filter((c) => !this.isAttached(c));
    this.attached.push(...fresh);
    return fresh.length;
  }
  async stopAll(): Promise<void> {
    this.stopped++;
  }
  isAttached(c: AttachConfiguration): boolean {
    return this.attached.some((a) => JSON.stringify(a.connect ?? a.processId) === JSON.stringify(c.connect ?? c.processId));
  }
}

describe('controller (command flows over the daemon)', () => {
  let ws: string;
  let script: string;
  let daemon: FakeDaemon;
  let debug: FakeDebug;
  let views: ServerStatus[];
  let logs: { lines: string[]; shown: number; appendLine(l: string): void; show(): void };
  let ctl: Controller;
  let available: boolean;

  beforeEach(() => {
    fake.reset();
    ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'azml-ctl-')));
    script = path.join(ws, 'score.py');
    fs.writeFileSync(script, 'def init():\n    pass\n\ndef run(d):\n    return d\n');
    fs.mkdirSync(path.join(ws, 'model'));
    fake.state.workspaceFolders = [ws];
    fake.state.activeEditor = { path: script, text: fs.readFileSync(script, 'utf8') };
    daemon = new FakeDaemon();
    debug = new FakeDebug();
    views = [];
    logs = { lines: [], shown: 0, appendLine: (l) => logs.lines.push(l), show: () => logs.shown++ };
    available = true;
    daemon.handlers.status = () => ({ state: 'stopped' });
    daemon.handlers.stopServer = () => ({ state: 'stopped' });
    ctl = new Controller({ ensure: async () => (available ? daemon : undefined), current: () => (available ? daemon : undefined) }, { update: (s) => views.push(s) }, logs, debug);
    ctl.pollMs = 5;
  });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('starts the active score.py with settings and the model dir next to it', async () => {
    fake.state.settings = { 'azmlinfsrv.port': 5123, 'azmlinfsrv.workerCount': 2, 'azmlinfsrv.env': { A: 'b', N: 1 } };
    daemon.handlers.startServer = (a) => ({ state: 'running', port: 5123, url: 'http://127.0.0.1:5123', entryScript: a.entryScript, workerPids: [7] });
    const st = await ctl.start();
    assert.equal(st?.state, 'running');
    const call = daemon.calls.find((c) => c.name === 'azmlinfsrv.daemon.startServer');
    assert.deepEqual(call?.arg, { entryScript: script, modelDir: path.join(ws, 'model'), port: 5123, workerCount: 2, env: { A: 'b', N: '1' } });
    assert.deepEqual(
      views.map((v) => v.state),
      ['stopped', 'starting', 'running'],
    );
    assert.match(fake.state.progress[0].title ?? '', /starting the server/);
    assert.equal(ctl.status.port, 5123);
  });

  it('says so when there is no entry script', async () => {
    fake.state.activeEditor = undefined;
    assert.equal(await ctl.start(), undefined);
    assert.match(fake.state.messages[0].text, /no entry script/);
    assert.equal(daemon.names().includes('startServer'), false);
  });

  it('does nothing more when the daemon is unavailable (the manager already explained)', async () => {
    available = false;
    assert.equal(await ctl.start(), undefined);
    assert.equal(daemon.calls.length, 0);
  });

  it('reports a failed start with Show Logs and Go to Error', async () => {
    daemon.handlers.startServer = () => ({ state: 'failed', error: 'ZeroDivisionError: division by zero', errorLocation: { file: script, line: 2 } });
    fake.state.answers = [GO_TO_ERROR];
    await ctl.start();
    await until(() => fake.state.shownDocuments.length > 0);
    assert.deepEqual(fake.state.messages.at(-1), { level: 'error', text: 'Scoring server failed: ZeroDivisionError: division by zero', buttons: [SHOW_LOGS, GO_TO_ERROR] });
    const shown = fake.state.shownDocuments[0];
    assert.equal(shown.uri.fsPath, script);
    assert.equal(shown.options.selection.start.line, 1);
    // The same failure notified again (status notification) does not pop up a second time.
    ctl.applyStatus({ state: 'failed', error: 'ZeroDivisionError: division by zero' });
    assert.equal(fake.state.messages.filter((m) => m.level === 'error').length, 1);
  });

  it('Show Logs opens the server log; the failure is logged at error level', async () => {
    fake.state.answers = [SHOW_LOGS];
    ctl.applyStatus({ state: 'failed', error: 'boom' });
    await until(() => fake.state.executed.some((e) => e.command === 'azmlinfsrv.showLogs'));
    assert.deepEqual(fake.state.messages[0].buttons, [SHOW_LOGS]);
    assert.ok(logs.lines.includes('Scoring server failed: boom'), JSON.stringify(logs.lines));
  });

  it('turns a rejected startServer into a failed status', async () => {
    daemon.handlers.startServer = () => {
      throw new Error('The entry script does not exist');
    };
    const st = await ctl.start();
    assert.equal(st?.state, 'failed');
    assert.equal(st?.error, 'The entry script does not exist');
  });

  it('does not restart a server already running the same script', async () => {
    daemon.handlers.status = () => ({ state: 'running', entryScript: script, url: 'http://127.0.0.1:1' });
    daemon.handlers.startServer = () => assert.fail('should not start');
    await ctl.start();
    assert.match(fake.state.messages[0].text, /already running at http:\/\/127\.0\.0\.1:1/);
  });

  it('stops the debugger sessions and the server', async () => {
    await ctl.stop();
    assert.equal(debug.stopped, 1);
    assert.deepEqual(daemon.names(), ['stopServer']);
    assert.equal(ctl.status.state, 'stopped');
  });

  it('restarts with the same script and mode', async () => {
    ctl.applyStatus({ state: 'running', entryScript: script, debug: false });
    daemon.handlers.startServer = (a) => ({ state: 'running', entryScript: a.entryScript });
    fake.state.activeEditor = undefined;
    await ctl.restart();
    assert.deepEqual(daemon.names(), ['stopServer', 'status', 'startServer']);
    assert.equal(daemon.calls[2].arg.entryScript, script);
  });

  it('debug: attaches to each worker while startServer is pending, then resolves', async () => {
    let release!: (s: ServerStatus) => void;
    let polls = 0;
    daemon.handlers.startServer = () => new Promise<ServerStatus>((r) => (release = r));
    const w1 = { type: 'debugpy', request: 'attach' as const, connect: { host: '127.0.0.1', port: 4001 } };
    const w2 = { type: 'debugpy', request: 'attach' as const, connect: { host: '127.0.0.1', port: 4002 } };
    daemon.handlers.debugConfigurations = () => ({ configurations: ++polls < 3 ? [] : polls < 5 ? [w1] : [w1, w2] });
    const started = ctl.debugServer();
    await until(() => debug.attached.length === 2);
    assert.equal(daemon.calls.find((c) => c.name.endsWith('startServer'))?.arg.debug, true);
    release({ state: 'running', debug: true, entryScript: script, workerPids: [1, 2] });
    const st = await started;
    assert.equal(st?.state, 'running');
    assert.deepEqual(
      debug.attached.map((c) => c.connect?.port),
      [4001, 4002],
    );
    assert.match(fake.state.progress[0].title ?? '', /under the debugger/);
  });

  it('re-attaches after a reload brings new workers', async () => {
    ctl.applyStatus({ state: 'running', debug: true, workerPids: [1], debugConfigurations: [{ type: 'debugpy', request: 'attach', connect: { host: '127.0.0.1', port: 1 } }] });
    await until(() => debug.attached.length === 1);
    const newer = { type: 'debugpy', request: 'attach' as const, connect: { host: '127.0.0.1', port: 2 } };
    daemon.handlers.debugConfigurations = () => ({ configurations: [newer] });
    ctl.applyStatus({ state: 'running', debug: true, workerPids: [2] }); // no configurations in the notification
    await until(() => debug.attached.length === 2);
    assert.equal(debug.attached[1].connect?.port, 2);
    // Same workers again: nothing to do.
    ctl.applyStatus({ state: 'running', debug: true, workerPids: [2] });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(daemon.names().filter((n) => n === 'debugConfigurations').length, 1);
  });

  it('attaches to a reload generation waiting for the debugger (listener known before its pid serves)', async () => {
    const old = { type: 'debugpy', request: 'attach' as const, connect: { host: '127.0.0.1', port: 1 } };
    const waiting = { type: 'debugpy', request: 'attach' as const, connect: { host: '127.0.0.1', port: 2 } };
    ctl.applyStatus({ state: 'running', debug: true, workerPids: [1], debugConfigurations: [old] });
    await until(() => debug.attached.length === 1);
    ctl.applyStatus({ state: 'running', debug: true, workerPids: [1], debugConfigurations: [old, waiting] });
    await until(() => debug.attached.length === 2);
    assert.equal(debug.attached[1].connect?.port, 2);
    assert.equal(daemon.names().includes('debugConfigurations'), false, 'the notification carried the configurations');
  });

  it('attach: offers hand-started servers and attaches by pid', async () => {
    daemon.handlers.findServers = () => ({ servers: [{ pid: 900, workerPids: [901], port: 5001, entryScript: '/x/score.py' }] });
    daemon.handlers.debugConfigurations = (a) => {
      assert.deepEqual(a, { pid: 900 });
      return { configurations: [{ type: 'debugpy', request: 'attach', processId: 901 }] };
    };
    fake.state.picks = [(items) => items.find((i: { pid?: number }) => i.pid === 900)];
    await ctl.attach();
    assert.match(fake.state.quickPicks[0][0].label, /azmlinfsrv PID 900/);
    assert.equal(debug.attached[0].processId, 901);
  });

  it('attach: shows why PID injection cannot work', async () => {
    daemon.handlers.findServers = () => ({ servers: [{ pid: 900, workerPids: [901] }] });
    daemon.handlers.debugConfigurations = () => ({ configurations: [], error: 'ptrace_scope is 3: attaching by PID is disabled' });
    fake.state.picks = [(items) => items[0]];
    await ctl.attach();
    assert.match(fake.state.messages.at(-1)?.text ?? '', /cannot attach: ptrace_scope is 3/);
  });

  it('attach: a server started here without the debugger is restarted with it', async () => {
    daemon.handlers.status = () => ({ state: 'running', pid: 10, workerPids: [11], entryScript: script, debug: false });
    daemon.handlers.findServers = () => ({ servers: [{ pid: 10, workerPids: [11] }] });
    fake.state.answers = [undefined];
    await ctl.attach();
    assert.equal(fake.state.quickPicks.length, 0, 'only our own server: no pick');
    assert.match(fake.state.messages[0].text, /not started under the debugger/);
  });

  it('attach: nothing running', async () => {
    daemon.handlers.findServers = () => ({ servers: [] });
    await ctl.attach();
    assert.match(fake.state.messages[0].text, /no running azmlinfsrv server/);
  });

  it('send: starts the server first when needed, then sends through the daemon', async () => {
    let running = false;
    daemon.handlers.status = () => (running ? { state: 'running', url: 'http://127.0.0.1:2', entryScript: script } : { state: 'stopped' });
    daemon.handlers.startServer = () => ((running = true), { state: 'running', url: 'http://127.0.0.1:2', entryScript: script });
    daemon.handlers.sendRequest = (a) => ({ status: 200, headers: {}, body: JSON.stringify(a), isBase64: false, elapsedMs: 1 });
    const r = await ctl.send({ method: 'POST', path: '/score', body: '{}' }, script);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { method: 'POST', path: '/score', body: '{}' });
    assert.deepEqual(daemon.names(), ['status', 'status', 'startServer', 'sendRequest']);
  });

  it('send: a server that cannot start is an error for the panel', async () => {
    daemon.handlers.startServer = () => ({ state: 'failed', error: 'ImportError: no numpy' });
    await assert.rejects(ctl.send({ method: 'POST', path: '/score' }, script), /not running: ImportError: no numpy/);
  });

  it('status menu offers what fits the state', async () => {
    ctl.applyStatus({ state: 'running', url: 'http://127.0.0.1:3', entryScript: script });
    fake.state.picks = [(items) => items.find((i: { command: string }) => i.command === 'azmlinfsrv.stop')];
    await ctl.statusMenu();
    const labels = fake.state.quickPicks[0].map((i: { label: string }) => i.label);
    assert.ok(labels.some((l: string) => /Stop Scoring Server/.test(l)));
    assert.ok(!labels.some((l: string) => /Start Scoring Server/.test(l)));
    assert.deepEqual(fake.state.executed.at(-1), { command: 'azmlinfsrv.stop', args: [] });
    assert.ok(vscode);
  });
});
