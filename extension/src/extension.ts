/** Wiring: settings, interpreter, daemon client, commands, status bar, debug, panel, CodeLens. */
import * as vscode from 'vscode';
import { PythonExtension } from '@vscode/python-extension';
import { ScoreCodeLensProvider } from './codeLens';
import { firstWorkspaceFolder, readSettings, SECTION } from './config';
import { Controller, errorText } from './controller';
import { DaemonClient } from './daemon';
import { DaemonManager } from './daemonManager';
import { DebugAdapterFactory, DebugManager, OWN_DEBUG_TYPE } from './debug';
import { RequestHistory } from './history';
import { checkDaemonImportable, installCommand, resolveInterpreter } from './interpreter';
import { DaemonCommands, SendRequestResult } from './protocol';
import { PanelHost, RequestPanel } from './requestPanel';
import { StatusBar } from './status';

export const COMMANDS = {
  start: 'azmlinfsrv.start',
  stop: 'azmlinfsrv.stop',
  restart: 'azmlinfsrv.restart',
  debug: 'azmlinfsrv.debug',
  attach: 'azmlinfsrv.attach',
  sendRequest: 'azmlinfsrv.sendRequest',
  showLogs: 'azmlinfsrv.showLogs',
  statusMenu: 'azmlinfsrv.statusMenu',
  goToError: 'azmlinfsrv.goToError',
} as const;

const PYTHON_EXTENSION_ID = 'ms-python.python';

let manager: DaemonManager | undefined;

async function pythonFromExtension(resource?: vscode.Uri): Promise<string | undefined> {
  if (!vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) {
    return undefined;
  }
  const api = await PythonExtension.api();
  const active = api.environments.getActiveEnvironmentPath(resource);
  const env = await api.environments.resolveEnvironment(active);
  return env?.executable.uri?.fsPath ?? active.path;
}

export interface Extension {
  controller: Controller;
  manager: DaemonManager;
}

export async function activate(context: vscode.ExtensionContext): Promise<Extension> {
  const output = vscode.window.createOutputChannel('AzureML Scoring');
  const statusBar = new StatusBar(COMMANDS.statusMenu);
  const history = new RequestHistory(context.workspaceState);
  const debug = new DebugManager(
    () => vscode.workspace.workspaceFolders?.[0],
    (l) => output.appendLine(l),
  );

  const mgr = new DaemonManager({
    resolveInterpreter: () =>
      resolveInterpreter({
        settingPath: readSettings().pythonPath,
        pythonExtension: () => pythonFromExtension(vscode.workspace.workspaceFolders?.[0]?.uri),
        workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
      }),
    checkImportable: (python) => checkDaemonImportable(python),
    installCommand: (python) => installCommand(python, (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath)),
    initOptions: () => {
      const s = readSettings();
      return s.entryScript ? { reloadOnSave: s.reloadOnSave, entryScript: s.entryScript } : { reloadOnSave: s.reloadOnSave };
    },
    createClient: (python, init) => {
      const client: DaemonClient = new DaemonClient(
        python,
        init,
        output,
        {
          onStatus: (s) => controller.applyStatus(s),
          onLog: (text) => output.appendLine(text.replace(/\r?\n$/, '')),
          onStopped: () => mgr.clientStopped(client),
        },
        firstWorkspaceFolder(),
      );
      return client;
    },
    settingPath: () => readSettings().pythonPath,
    log: (l) => output.appendLine(l),
    canSelectInterpreter: () => !!vscode.extensions.getExtension(PYTHON_EXTENSION_ID),
  });
  manager = mgr;
  const controller: Controller = new Controller(mgr, statusBar, output, debug);
  const ctl = controller;

  const swagger = async (): Promise<unknown> => {
    const d = mgr.current();
    if (!d || ctl.status.state !== 'running') {
      return undefined;
    }
    const r = await d.command<SendRequestResult>(DaemonCommands.sendRequest, { method: 'GET', path: '/swagger.json' });
    return r.status === 200 && !r.isBase64 ? JSON.parse(r.body) : undefined;
  };

  const panelHost: PanelHost = {
    get status() {
      return ctl.status;
    },
    onDidChangeStatus: ctl.onDidChangeStatus,
    send: (r, script) => ctl.send(r, script),
    swagger,
    entryScript: (u) => ctl.entryScript(u),
  };

  const guard =
    <A extends unknown[]>(name: string, fn: (...a: A) => Promise<unknown>) =>
    async (...a: A) => {
      try {
        await fn(...a);
      } catch (e) {
        output.appendLine(`${name} failed: ${errorText(e)}`);
        void vscode.window.showErrorMessage(`AzureML Scoring: ${name} failed: ${errorText(e)}`);
      }
    };
  const uriArg = (u: unknown) => (u instanceof vscode.Uri ? u : undefined);
  const codeLens = new ScoreCodeLensProvider(() => readSettings().codeLens);

  context.subscriptions.push(
    output,
    statusBar,
    debug,
    ctl,
    { dispose: () => void mgr.dispose() },
    mgr.onDidReset(() => ctl.daemonGone()),
    vscode.commands.registerCommand(COMMANDS.start, guard('Start', (u?: unknown) => ctl.start(uriArg(u)))),
    vscode.commands.registerCommand(COMMANDS.stop, guard('Stop', () => ctl.stop())),
    vscode.commands.registerCommand(COMMANDS.restart, guard('Restart', () => ctl.restart())),
    vscode.commands.registerCommand(COMMANDS.debug, guard('Debug', (u?: unknown) => ctl.debugServer(uriArg(u)))),
    vscode.commands.registerCommand(COMMANDS.attach, guard('Attach', () => ctl.attach())),
    vscode.commands.registerCommand(
      COMMANDS.sendRequest,
      guard('Send Sample Request', (u?: unknown) =>
        RequestPanel.show(context.extensionUri, panelHost, history, uriArg(u)),
      ),
    ),
    vscode.commands.registerCommand(COMMANDS.showLogs, () => output.show()),
    vscode.commands.registerCommand(COMMANDS.statusMenu, guard('Menu', () => ctl.statusMenu())),
    vscode.commands.registerCommand(
      COMMANDS.goToError,
      guard('Go to Error', async () => {
        const loc = ctl.status.errorLocation;
        if (loc) {
          await ctl.goTo(loc.file, loc.line);
        }
      }),
    ),
    vscode.debug.registerDebugAdapterDescriptorFactory(OWN_DEBUG_TYPE, new DebugAdapterFactory(() => mgr.python)),
    vscode.languages.registerCodeLensProvider({ scheme: 'file', language: 'python' }, codeLens),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration(`${SECTION}.codeLens`)) {
        codeLens.refresh();
      }
      if (e.affectsConfiguration(`${SECTION}.pythonPath`) || e.affectsConfiguration(`${SECTION}.reloadOnSave`)) {
        // VS Code also reports changes that leave our values as they were: compare before restarting.
        const s = readSettings();
        const started = mgr.startedWith;
        if (started && (s.pythonPath !== started.settingPath || s.reloadOnSave !== started.reloadOnSave)) {
          output.appendLine('Settings changed (azmlinfsrv.pythonPath or reloadOnSave): restarting the daemon.');
          await mgr.reset();
          await mgr.ensure(false);
        }
      }
    }),
  );

  // Follow the interpreter selected in the Python extension.
  if (vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) {
    void PythonExtension.api().then(
      (api) =>
        context.subscriptions.push(
          api.environments.onDidChangeActiveEnvironmentPath(async () => {
            if (readSettings().pythonPath) {
              return;
            }
            output.appendLine('Python interpreter changed: restarting the daemon.');
            await mgr.reset();
            await mgr.ensure(false);
          }),
        ),
      (e) => output.appendLine(`Python extension API unavailable: ${errorText(e)}`),
    );
  }

  // Start the daemon now: diagnostics and status work before the first command.
  void mgr.ensure(false).then(async (d) => {
    if (d) {
      await ctl.refreshStatus(d);
    }
  });

  return { controller: ctl, manager: mgr };
}

export async function deactivate(): Promise<void> {
  await manager?.dispose();
  manager = undefined;
}
