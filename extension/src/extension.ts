/** Activation: builds the parts (daemon, controller, status bar, debug, panel, CodeLens) and wires them. */
import * as vscode from 'vscode';
import { PythonExtension } from '@vscode/python-extension';
import { ScoreCodeLensProvider } from './codeLens';
import { registerCommands } from './commands';
import { OUTPUT_CHANNEL_NAME, SECTION, SERVER_LOG_CHANNEL_NAME } from './common/constants';
import { DaemonClient } from './common/daemonClient';
import { DaemonManager, mementoPrompts } from './common/daemonManager';
import { errorText, levelledChannel, LogView } from './common/logging';
import { checkInterpreter, daemonCommand, hasPythonExtension, pythonFromExtension, resolveInterpreter } from './common/python';
import { firstWorkspaceFolder, readSettings } from './common/settings';
import { DebugAdapterFactory, DebugManager, OWN_DEBUG_TYPE } from './debug';
import { LAUNCH_TYPE, LaunchConfigProvider } from './launchConfig';
import { LaunchHost, ServerDebugAdapterFactory } from './launchSession';
import { RequestHistory } from './history';
import { DaemonCommands, SendRequestResult } from './protocol';
import { PanelHost } from './requestPanel';
import { Controller } from './scoringServer/controller';
import { watchDebugPauses } from './scoringServer/debugPause';
import { StatusBar } from './scoringServer/statusBar';
import { ScoringWorkspace } from './scoringWorkspace';
import { registerCaseTests } from './testing/register';

let manager: DaemonManager | undefined;

export interface Extension {
  controller: Controller;
  manager: DaemonManager;
}

const workspacePaths = () => (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);

/** The daemon's owner; `controller()` is late-bound because the controller needs the manager. */
function createDaemonManager(output: vscode.LogOutputChannel, serverLog: LogView, context: vscode.ExtensionContext, controller: () => Controller): DaemonManager {
  const mgr: DaemonManager = new DaemonManager({
    resolveInterpreter: () =>
      resolveInterpreter({
        settingPath: readSettings().pythonPath,
        pythonExtension: () => pythonFromExtension(vscode.workspace.workspaceFolders?.[0]?.uri),
        workspaceFolders: workspacePaths(),
      }),
    checkInterpreter: (python) => checkInterpreter(python),
    initOptions: () => {
      const s = readSettings();
      // Our own start progress says what the start does, paused in the debugger included: not the daemon's too.
      const base = { reloadOnSave: s.reloadOnSave, startProgress: false };
      return s.entryScript ? { ...base, entryScript: s.entryScript } : base;
    },
    createClient: (python, init) => {
      const { args } = daemonCommand(context.extensionUri.fsPath, python);
      const client: DaemonClient = new DaemonClient(python, args, init, levelledChannel(output), {
        onStatus: (s) => controller().applyStatus(s),
        onLog: (text) => serverLog.appendLine(text.replace(/\r?\n$/, '')),
        onStopped: () => mgr.clientStopped(client),
      }, firstWorkspaceFolder());
      return client;
    },
    settingPath: () => readSettings().pythonPath,
    log: (l) => output.appendLine(l),
    canSelectInterpreter: hasPythonExtension,
    isTrusted: () => vscode.workspace.isTrusted,
    prompts: mementoPrompts(context.workspaceState),
  });
  return mgr;
}

/** What the Send Sample Request panel needs from the rest of the extension. */
function panelHostFor(ctl: Controller, mgr: DaemonManager): PanelHost {
  const swagger = async (): Promise<unknown> => {
    const d = mgr.current();
    if (!d || ctl.status.state !== 'running') {
      return undefined;
    }
    const r = await d.command<SendRequestResult>(DaemonCommands.sendRequest, { method: 'GET', path: '/swagger.json' });
    return r.status === 200 && !r.isBase64 ? JSON.parse(r.body) : undefined;
  };
  return {
    get status() {
      return ctl.status;
    },
    onDidChangeStatus: ctl.onDidChangeStatus,
    send: (r, script) => ctl.send(r, script),
    cancel: async (requestId) => void (await mgr.current()?.command(DaemonCommands.cancelRequest, { requestId })),
    swagger,
    entryScript: (u) => ctl.entryScript(u),
  };
}

/** What an F5 (`azmlinfsrv` launch) session needs: start under the debugger as the workers' parent, stop. */
function launchHostFor(ctl: Controller, debug: DebugManager): LaunchHost {
  return {
    start: (script, args, parent) => {
      debug.parent = parent;
      return ctl.start(vscode.Uri.file(script), { debug: true, args });
    },
    stop: () => ctl.stop(),
    release: (parent) => {
      if (debug.parent?.id === parent.id) {
        debug.parent = undefined;
      }
    },
    onDidChangeStatus: ctl.onDidChangeStatus,
  };
}

async function restartDaemon(mgr: DaemonManager, output: vscode.OutputChannel, why: string): Promise<void> {
  output.appendLine(`${why}: restarting the daemon.`);
  await mgr.reset();
  await mgr.ensure(false);
}

/** CodeLens follows its setting; the daemon restarts when its interpreter or reload setting really changed. */
function watchSettings(mgr: DaemonManager, codeLens: ScoreCodeLensProvider, output: vscode.OutputChannel): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration(async (e) => {
    if (e.affectsConfiguration(`${SECTION}.codeLens`)) {
      codeLens.refresh();
    }
    if (e.affectsConfiguration(`${SECTION}.pythonPath`) || e.affectsConfiguration(`${SECTION}.reloadOnSave`)) {
      // VS Code also reports changes that leave our values as they were: compare before restarting.
      const s = readSettings();
      const started = mgr.startedWith;
      if (started && (s.pythonPath !== started.settingPath || s.reloadOnSave !== started.reloadOnSave)) {
        await restartDaemon(mgr, output, 'Settings changed (azmlinfsrv.pythonPath or reloadOnSave)');
      }
    }
  });
}

/** Follow the interpreter selected in the Python extension (unless our setting overrides it). */
function followPythonExtension(context: vscode.ExtensionContext, mgr: DaemonManager, output: vscode.OutputChannel, scoring: ScoringWorkspace): void {
  if (!hasPythonExtension()) {
    return;
  }
  void PythonExtension.api().then(
    (api) =>
      context.subscriptions.push(
        api.environments.onDidChangeActiveEnvironmentPath(async () => {
          if (!readSettings().pythonPath && scoring.hasScoringScript) {
            await restartDaemon(mgr, output, 'Python interpreter changed');
          }
        }),
      ),
    (e) => output.appendLine(`Python extension API unavailable: ${errorText(e)}`),
  );
}

/**
 * In a trusted workspace with a scoring script, start the daemon now: diagnostics and status
 * work before the first command. Elsewhere it starts with the first command (or on trust).
 */
function startWhenScoring(context: vscode.ExtensionContext, mgr: DaemonManager, ctl: Controller, scoring: ScoringWorkspace, codeLens: ScoreCodeLensProvider): void {
  const startQuietly = () => void mgr.ensure(false).then((d) => d && ctl.refreshStatus(d));
  context.subscriptions.push(
    scoring.onDidFind(startQuietly),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      codeLens.refresh();
      if (scoring.hasScoringScript) {
        startQuietly();
      }
    }),
  );
  void scoring.detect();
}

/** CodeLens ("Start" only while no server runs) follows the server's state. */
function refreshOnStateChange(ctl: Controller, codeLens: ScoreCodeLensProvider): vscode.Disposable {
  let last = ctl.status.state;
  return ctl.onDidChangeStatus((s) => {
    if (s.state !== last) {
      last = s.state;
      codeLens.refresh();
    }
  });
}

export async function activate(context: vscode.ExtensionContext): Promise<Extension> {
  const output = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true });
  const serverLog = vscode.window.createOutputChannel(SERVER_LOG_CHANNEL_NAME, 'log');
  const statusBar = new StatusBar();
  const debug: DebugManager = new DebugManager(() => vscode.workspace.workspaceFolders?.[0], (l) => output.appendLine(l), (): string | null | undefined => ctl.status.entryScript);
  const mgr = createDaemonManager(output, serverLog, context, () => ctl);
  manager = mgr;
  const ctl: Controller = new Controller(mgr, statusBar, output, debug);
  const codeLens = new ScoreCodeLensProvider(
    () => readSettings().codeLens && vscode.workspace.isTrusted,
    (u) => readSettings(u).entryScript,
    () => ctl.status.state,
  );
  const scoring = new ScoringWorkspace();
  const panelHost = panelHostFor(ctl, mgr);
  const history = new RequestHistory(context.workspaceState);
  context.subscriptions.push(
    output,
    serverLog,
    statusBar,
    watchDebugPauses((paused) => ctl.setDebugPaused(paused)),
    refreshOnStateChange(ctl, codeLens),
    debug,
    ctl,
    scoring,
    { dispose: () => void mgr.dispose() },
    mgr.onDidReset(() => ctl.daemonGone()),
    ...registerCommands({ extensionUri: context.extensionUri, controller: ctl, panelHost, history, logs: output, serverLog }),
    vscode.debug.registerDebugAdapterDescriptorFactory(OWN_DEBUG_TYPE, new DebugAdapterFactory(() => mgr.python, context.extensionUri.fsPath)),
    vscode.debug.registerDebugConfigurationProvider(LAUNCH_TYPE, new LaunchConfigProvider()),
    // Also listed in Run and Debug's dropdown without a launch.json ("AzureML Scoring…").
    vscode.debug.registerDebugConfigurationProvider(LAUNCH_TYPE, new LaunchConfigProvider(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory(LAUNCH_TYPE, new ServerDebugAdapterFactory(launchHostFor(ctl, debug))),
    vscode.languages.registerCodeLensProvider({ scheme: 'file', language: 'python' }, codeLens),
    watchSettings(mgr, codeLens, output),
    registerCaseTests(mgr, ctl, scoring, (l) => output.appendLine(l)),
  );
  followPythonExtension(context, mgr, output, scoring);
  startWhenScoring(context, mgr, ctl, scoring, codeLens);
  return { controller: ctl, manager: mgr };
}

export async function deactivate(): Promise<void> {
  await manager?.dispose();
  manager = undefined;
}
