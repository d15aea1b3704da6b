/** Wiring: activate() with the fake vscode and a fake language client. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { activate, deactivate } from '../../extension/src/extension';
import { OWN_DEBUG_TYPE } from '../../extension/src/debug';
import * as fake from './fake/vscode';
import { LanguageClient } from './fake/languageclient';
import { Memento } from './fake/memento';
import { until as untilWithin } from './until';

const REPO = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));

const until = (cond: () => boolean, ms = 5000): Promise<void> => untilWithin(cond, ms);

/** An interpreter that answers the version probe: 3.12 (usable) or 3.8 (too old). */
function fakePython(dir: string, usable: boolean): string {
  const p = path.join(dir, usable ? 'python-ok' : 'python-old');
  fs.writeFileSync(p, `#!/bin/sh\necho ${usable ? '3.12' : '3.8'}\n`, { mode: 0o755 });
  return p;
}

describe('extension activation and command wiring', () => {
  let ws: string;
  let context: { subscriptions: { dispose(): unknown }[]; workspaceState: Memento; extensionUri: vscode.Uri };

  beforeEach(() => {
    fake.reset();
    LanguageClient.instances = [];
    ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'azml-ext-')));
    fs.writeFileSync(path.join(ws, 'score.py'), 'def init():\n    pass\n\ndef run(d):\n    return d\n');
    fake.state.workspaceFolders = [ws];
    fake.state.files = [path.join(ws, 'score.py')];
    context = { subscriptions: [], workspaceState: new Memento(), extensionUri: vscode.Uri.file(REPO) };
  });
  afterEach(async () => {
    await deactivate();
    context.subscriptions.forEach((d) => d.dispose());
    fs.rmSync(ws, { recursive: true, force: true });
  });

  it('declares the commands of issue 4 under the "AzureML Scoring" category', () => {
    const titles = Object.fromEntries(manifest.contributes.commands.map((c: { command: string; title: string; category: string }) => [c.command, `${c.category}: ${c.title}`]));
    assert.deepEqual(
      ['start', 'stop', 'restart', 'debug', 'attach', 'sendRequest', 'showLogs'].map((c) => titles[`azmlinfsrv.${c}`]),
      [
        'AzureML Scoring: Start Scoring Server',
        'AzureML Scoring: Stop Scoring Server',
        'AzureML Scoring: Restart Scoring Server',
        'AzureML Scoring: Debug Scoring Server',
        'AzureML Scoring: Attach Debugger to Scoring Server',
        'AzureML Scoring: Send Sample Request',
        'AzureML Scoring: Show Scoring Server Logs',
      ],
    );
    assert.ok(!Object.keys(titles).some((c) => c.startsWith('azmlinfsrv.daemon.')), 'no clash with the daemon command ids');
    assert.equal(manifest.engines.vscode, '^1.100.0');
    assert.equal(manifest.contributes.debuggers[0].type, OWN_DEBUG_TYPE);
    assert.deepEqual(manifest.contributes.breakpoints, [{ language: 'python' }]);
  });

  it('registers every contributed command and starts the daemon with the chosen interpreter', async () => {
    const py = fakePython(ws, true);
    fake.state.settings = { 'azmlinfsrv.pythonPath': py };
    LanguageClient.respond = (cmd) => (cmd.endsWith('.status') ? { state: 'stopped' } : {});
    await activate(context as unknown as vscode.ExtensionContext);
    for (const c of manifest.contributes.commands) {
      assert.ok(fake.state.commands.has(c.command), `${c.command} registered`);
    }
    assert.ok(fake.state.debugFactories.has(OWN_DEBUG_TYPE));
    assert.equal(fake.state.codeLensProviders.length, 1);
    await until(() => LanguageClient.instances.length === 1 && LanguageClient.instances[0].requests.length > 0);
    const client = LanguageClient.instances[0];
    assert.equal(client.serverOptions.command, py);
    assert.deepEqual(client.serverOptions.args, [path.join(REPO, 'bundled', 'tool', 'launch.py'), 'daemon']);
    assert.equal(client.serverOptions.options.cwd, ws);
    assert.deepEqual(client.clientOptions.initializationOptions, { reloadOnSave: true, startProgress: false });
    assert.deepEqual(client.clientOptions.documentSelector, [{ scheme: 'file', language: 'python' }]);
    const status = fake.state.statusItems[0];
    assert.equal(status.text, '$(circle-slash) Scoring: stopped');
    assert.equal(status.command, 'azmlinfsrv.statusMenu');
    assert.equal(status.visible, true);
  });

  it('Start runs startServer; status and log notifications reach the status bar and output', async () => {
    fake.state.settings = { 'azmlinfsrv.pythonPath': fakePython(ws, true), 'azmlinfsrv.reloadOnSave': false };
    LanguageClient.respond = (cmd, arg) =>
      cmd.endsWith('.status') ? { state: 'stopped' } : cmd.endsWith('.startServer') ? { state: 'running', port: 5555, url: 'http://127.0.0.1:5555', entryScript: arg.entryScript } : {};
    fake.state.activeEditor = { path: path.join(ws, 'score.py'), text: 'def init(): pass\ndef run(x): pass\n' };
    await activate(context as unknown as vscode.ExtensionContext);
    await vscode.commands.executeCommand('azmlinfsrv.start');
    const client = LanguageClient.instances[0];
    assert.deepEqual(client.clientOptions.initializationOptions, { reloadOnSave: false, startProgress: false });
    const start = client.requests.find((r) => r.command === 'azmlinfsrv.daemon.startServer');
    assert.deepEqual(start?.arg, { entryScript: path.join(ws, 'score.py') });
    const status = fake.state.statusItems[0];
    assert.equal(status.text, '$(radio-tower) Scoring: running :5555');
    client.notify('azmlinfsrv/status', { state: 'failed', error: 'boom' });
    assert.equal(status.text, '$(error) Scoring: failed');
    // The server's output has its own channel; the extension's and the daemon's is a log channel.
    const [log, server] = fake.state.outputs;
    assert.deepEqual([log.name, log.options, server.name, server.options], ['AzureML Scoring', { log: true }, 'AzureML Scoring Server', 'log']);
    client.notify('azmlinfsrv/log', { text: 'a server line\n' });
    assert.ok(server.lines.includes('a server line'));
    assert.ok(!log.lines.includes('a server line'));
    await vscode.commands.executeCommand('azmlinfsrv.showLogs');
    assert.equal(server.shown, 1);
    // The language client's lines (and the daemon's stderr) land in the log channel at their level.
    client.clientOptions.outputChannel.appendLine('[Error - 10:00:01 AM] connection lost');
    client.clientOptions.outputChannel.append('2026-12-07 10:00:02,5 WARNING azmlinfsrv.daemon - slow\n');
    assert.deepEqual(log.leveled.slice(-2), ['[error] connection lost', '[warn] azmlinfsrv.daemon - slow']);
  });

  it('sets the server-state context key and offers Start as a CodeLens only while stopped', async () => {
    fake.state.settings = { 'azmlinfsrv.pythonPath': fakePython(ws, true) };
    LanguageClient.respond = (cmd) => (cmd.endsWith('.status') ? { state: 'stopped' } : {});
    await activate(context as unknown as vscode.ExtensionContext);
    await until(() => fake.contextKeys()['azmlinfsrv.serverState'] === 'stopped');
    const provider = fake.state.codeLensProviders[0].provider;
    const score = path.join(ws, 'score.py');
    const titles = () => provider.provideCodeLenses(fake.document(score, fs.readFileSync(score, 'utf8'))).map((l: vscode.CodeLens) => l.command?.title);
    assert.equal(titles()[0], '$(play) Start');
    await until(() => LanguageClient.instances.length === 1);
    LanguageClient.instances[0].notify('azmlinfsrv/status', { state: 'running', port: 5001 });
    assert.equal(fake.contextKeys()['azmlinfsrv.serverState'], 'running');
    assert.ok(!titles().includes('$(play) Start'));
  });

  it('the palette offers Stop and Restart only when a server is there, Start only when none runs', () => {
    const when = Object.fromEntries(manifest.contributes.menus.commandPalette.map((m: { command: string; when: string }) => [m.command, m.when]));
    // A tiny evaluator for these clauses: `key`, `key == v`, `key != v`, joined by && or ||.
    const holds = (clause: string, state: string | undefined) =>
      clause.split('||').some((all) =>
        all.split('&&').every((term) => {
          const m = /^\s*azmlinfsrv\.serverState\s*(?:(==|!=)\s*(\w+))?\s*$/.exec(term);
          assert.ok(m, `unexpected term ${term}`);
          return m[1] === '==' ? state === m[2] : m[1] === '!=' ? state !== m[2] : !!state;
        }),
      );
    const offered = (state: string | undefined) => ['start', 'stop', 'restart'].filter((c) => holds(when[`azmlinfsrv.${c}`], state));
    assert.deepEqual(offered(undefined), ['start'], 'before the extension knows anything');
    assert.deepEqual(offered('stopped'), ['start']);
    assert.deepEqual(offered('starting'), ['stop', 'restart']);
    assert.deepEqual(offered('running'), ['stop', 'restart']);
    assert.deepEqual(offered('failed'), ['start', 'stop', 'restart']);
    assert.equal(manifest.contributes.configuration.properties['azmlinfsrv.trace.server'].default, 'off');
  });

  it('names the language client "azmlinfsrv", so vscode-languageclient reads azmlinfsrv.trace.server', async () => {
    fake.state.settings = { 'azmlinfsrv.pythonPath': fakePython(ws, true) };
    LanguageClient.respond = (cmd) => (cmd.endsWith('.status') ? { state: 'stopped' } : {});
    await activate(context as unknown as vscode.ExtensionContext);
    await until(() => LanguageClient.instances.length === 1);
    // The client reads workspace.getConfiguration(<its id>).get('trace.server').
    assert.equal(LanguageClient.instances[0].id, 'azmlinfsrv');
  });

  it('an interpreter too old gets one clear message, no install offer and no daemon', async () => {
    const py = fakePython(ws, false);
    fake.state.settings = { 'azmlinfsrv.pythonPath': py };
    fake.state.answers = ['Open Settings'];
    await activate(context as unknown as vscode.ExtensionContext);
    await until(() => fake.state.executed.some((e) => e.command === 'workbench.action.openSettings'));
    assert.equal(fake.state.messages.length, 1, JSON.stringify(fake.state.messages));
    const [msg] = fake.state.messages;
    assert.equal(msg.level, 'error');
    assert.equal(
      msg.text,
      `AzureML Scoring cannot run with ${py} (from the azmlinfsrv.pythonPath setting): ${py} is Python 3.8; azmlinfsrv needs Python 3.10 or newer. ` +
        "Choose a Python 3.10 or newer interpreter (the one with your model's packages).",
    );
    assert.deepEqual(msg.buttons, ['Open Settings']);
    assert.ok(!/pip|install/i.test(msg.text), 'nothing is offered for installation');
    assert.equal(fake.state.terminals.length, 0);
    assert.equal(LanguageClient.instances.length, 0);
  });

  it('names an interpreter that is not found', async () => {
    const missing = path.join(ws, 'no-such-python');
    fake.state.settings = { 'azmlinfsrv.pythonPath': missing };
    await activate(context as unknown as vscode.ExtensionContext);
    await until(() => fake.state.messages.length > 0);
    assert.match(fake.state.messages[0].text, new RegExp(`cannot run with .*: ${missing} was not found\\.`));
  });

  it('stays quiet in a workspace without a scoring script: no daemon, no prompt, no CodeLens', async () => {
    fs.rmSync(path.join(ws, 'score.py'));
    const test = path.join(ws, 'test_score.py');
    const f1 = path.join(ws, 'f1_score.py');
    fs.writeFileSync(test, 'def test_score():\n    assert True\n');
    fs.writeFileSync(f1, 'def f1_score(y, p):\n    return 1.0\n');
    fake.state.files = [test, f1];
    fake.state.settings = { 'azmlinfsrv.pythonPath': fakePython(ws, false) };
    fake.state.activeEditor = { path: test, text: fs.readFileSync(test, 'utf8') };
    await activate(context as unknown as vscode.ExtensionContext);
    await until(() => fake.contextKeys()['azmlinfsrv.workspaceHasScoringScript'] === false);
    fake.saveDocument(f1, fs.readFileSync(f1, 'utf8'));
    assert.deepEqual(fake.state.messages, []);
    assert.equal(LanguageClient.instances.length, 0);
    assert.ok(!fake.state.outputs[0].lines.some((l: string) => l.startsWith('Interpreter:')), 'no interpreter looked up');
    assert.equal(fake.contextKeys()['azmlinfsrv.isScoringScript'], false);
    const provider = fake.state.codeLensProviders[0].provider;
    for (const f of [test, f1]) {
      assert.deepEqual(provider.provideCodeLenses(fake.document(f, fs.readFileSync(f, 'utf8'))), [], f);
    }
  });

  it('wakes up when a scoring script is saved into the workspace', async () => {
    fs.rmSync(path.join(ws, 'score.py'));
    fake.state.files = [];
    fake.state.settings = { 'azmlinfsrv.pythonPath': fakePython(ws, true) };
    LanguageClient.respond = (cmd) => (cmd.endsWith('.status') ? { state: 'stopped' } : {});
    await activate(context as unknown as vscode.ExtensionContext);
    await until(() => fake.contextKeys()['azmlinfsrv.workspaceHasScoringScript'] === false);
    assert.equal(LanguageClient.instances.length, 0);
    const main = path.join(ws, 'main.py');
    fake.openEditor(main, 'def init():\n    pass\n\ndef run(d):\n    return d\n');
    fake.saveDocument(main, 'def init():\n    pass\n\ndef run(d):\n    return d\n');
    await until(() => LanguageClient.instances.length === 1);
    assert.equal(fake.contextKeys()['azmlinfsrv.isScoringScript'], true);
    assert.equal(fake.contextKeys()['azmlinfsrv.workspaceHasScoringScript'], true);
  });

  it('shows the unasked-for message once, remembered across sessions; a command still answers', async () => {
    const py = fakePython(ws, false);
    fake.state.settings = { 'azmlinfsrv.pythonPath': py };
    await activate(context as unknown as vscode.ExtensionContext);
    await until(() => fake.state.messages.some((m) => m.level === 'error'));
    await deactivate();
    context.subscriptions.forEach((d) => d.dispose());
    // The next session, same workspace state.
    fake.reset();
    fake.state.workspaceFolders = [ws];
    fake.state.files = [path.join(ws, 'score.py')];
    fake.state.settings = { 'azmlinfsrv.pythonPath': py };
    context = { ...context, subscriptions: [] };
    await activate(context as unknown as vscode.ExtensionContext);
    // The check ran (and logged its failure); a message would come in the same turn.
    await until(() => fake.state.outputs[0].lines.some((l: string) => l.startsWith('Cannot run the daemon with')));
    assert.equal(fake.state.messages.length, 0, JSON.stringify(fake.state.messages));
    await vscode.commands.executeCommand('azmlinfsrv.start');
    assert.match(fake.state.messages.find((m) => m.level === 'error')?.text ?? '', /cannot run with/);
  });

  it('starts nothing in an untrusted folder, explains on a command, and starts once trusted', async () => {
    fake.state.trusted = false;
    fake.state.settings = { 'azmlinfsrv.pythonPath': fakePython(ws, true) };
    LanguageClient.respond = (cmd) => (cmd.endsWith('.status') ? { state: 'stopped' } : {});
    await activate(context as unknown as vscode.ExtensionContext);
    await until(() => fake.state.outputs[0].lines.includes('Untrusted folder: the daemon is not started.'));
    assert.equal(LanguageClient.instances.length, 0);
    assert.equal(fake.state.messages.length, 0, 'no prompt unasked');
    const provider = fake.state.codeLensProviders[0].provider;
    const score = path.join(ws, 'score.py');
    assert.deepEqual(provider.provideCodeLenses(fake.document(score, fs.readFileSync(score, 'utf8'))), []);
    fake.state.answers = ['Manage Workspace Trust'];
    await vscode.commands.executeCommand('azmlinfsrv.start');
    await until(() => fake.state.executed.some((e) => e.command === 'workbench.trust.manage'));
    assert.match(fake.state.messages[0].text, /not trusted/);
    assert.equal(LanguageClient.instances.length, 0);
    fake.grantTrust();
    await until(() => LanguageClient.instances.length === 1);
    assert.equal(provider.provideCodeLenses(fake.document(score, fs.readFileSync(score, 'utf8'))).length, 5, 'Start, and two lenses on each def');
  });
});
