/**
 * The user-facing flows (start, stop, restart, debug, attach, send) over the daemon.
 * Keeps the last known server status and reacts to the daemon's status notifications:
 * status bar, failure notification, automatic re-attach after a reload.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { readSettings } from './config';
import { defaultModelDir, EXCLUDE_GLOB, resolveEntryScript, SCORE_GLOB } from './entryScript';
import {
  AttachConfiguration,
  DaemonCommands,
  DaemonConnection,
  DebugConfigurationsResult,
  FoundServer,
  SendRequestArgs,
  SendRequestResult,
  ServerStatus,
  StartServerArgs,
} from './protocol';

export interface DaemonSource {
  ensure(interactive?: boolean): Promise<DaemonConnection | undefined>;
  current(): DaemonConnection | undefined;
}

export interface DebugAttacher {
  attach(configs: AttachConfiguration[]): Promise<number>;
  stopAll(): Promise<void>;
  isAttached(c: AttachConfiguration): boolean;
}

export interface StatusView {
  update(s: ServerStatus): void;
}

export interface LogView {
  appendLine(line: string): void;
  show(preserveFocus?: boolean): void;
}

export const SHOW_LOGS = 'Show Logs';
export const GO_TO_ERROR = 'Go to Error';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function samePids(a: number[] | undefined, b: number[] | undefined): boolean {
  const x = [...(a ?? [])].sort();
  const y = [...(b ?? [])].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

export class Controller implements vscode.Disposable {
  private statusValue: ServerStatus = { state: 'stopped' };
  private readonly changed = new vscode.EventEmitter<ServerStatus>();
  readonly onDidChangeStatus = this.changed.event;
  private reattaching = false;
  private reattachAgain = false;
  /** Configurations from the latest status notification, for the next re-attach round. */
  private knownConfigs: AttachConfiguration[] | undefined;
  /** Poll interval while waiting for the debug listeners of a starting server. */
  pollMs = 300;

  constructor(
    private readonly daemons: DaemonSource,
    private readonly statusView: StatusView,
    private readonly logs: LogView,
    private readonly debug: DebugAttacher,
  ) {}

  get status(): ServerStatus {
    return this.statusValue;
  }

  // ---------------------------------------------------------------- status

  applyStatus(s: ServerStatus | undefined | null): void {
    if (!s || typeof s !== 'object' || !s.state) {
      return;
    }
    const prev = this.statusValue;
    this.statusValue = s;
    this.statusView.update(s);
    this.changed.fire(s);
    if (s.state === 'failed' && (prev.state !== 'failed' || prev.error !== s.error)) {
      void this.notifyFailure(s);
    }
    if (s.debug && (s.state === 'running' || s.state === 'starting')) {
      // A reload's new workers wait for the debugger before init(): their listeners show up in
      // debugConfigurations before they appear in workerPids.
      const fresh = (s.debugConfigurations ?? []).some((c) => !this.debug.isAttached(c));
      if (fresh || !samePids(prev.workerPids, s.workerPids)) {
        void this.reattach(s.debugConfigurations);
      }
    }
  }

  /** The daemon went away: its server went with it. */
  daemonGone(): void {
    this.applyStatus({ state: 'stopped' });
  }

  async notifyFailure(s: ServerStatus): Promise<void> {
    const buttons = s.errorLocation ? [SHOW_LOGS, GO_TO_ERROR] : [SHOW_LOGS];
    const choice = await vscode.window.showErrorMessage(`Scoring server failed: ${s.error || 'see the logs'}`, ...buttons);
    if (choice === SHOW_LOGS) {
      this.logs.show();
    } else if (choice === GO_TO_ERROR && s.errorLocation) {
      await this.goTo(s.errorLocation.file, s.errorLocation.line);
    }
  }

  async goTo(file: string, line: number): Promise<void> {
    const l = Math.max(0, line - 1);
    await vscode.window.showTextDocument(vscode.Uri.file(file), { selection: new vscode.Range(l, 0, l, 0) });
  }

  // ---------------------------------------------------------------- start / stop

  async entryScript(uri?: vscode.Uri): Promise<string | undefined> {
    const editor = vscode.window.activeTextEditor;
    const settings = readSettings(uri ?? editor?.document.uri);
    return resolveEntryScript({
      explicit: uri?.fsPath,
      active:
        editor && editor.document.uri.scheme === 'file'
          ? { fileName: editor.document.uri.fsPath, text: editor.document.getText() }
          : undefined,
      setting: settings.entryScript,
      findCandidates: async () => (await vscode.workspace.findFiles(SCORE_GLOB, EXCLUDE_GLOB, 50)).map((u) => u.fsPath),
      pick: async (candidates) => {
        const items = candidates.map((c) => ({ label: path.basename(c), description: vscode.workspace.asRelativePath(c), file: c }));
        const picked = await vscode.window.showQuickPick(items, { placeHolder: 'Which entry script should the scoring server run?' });
        return picked?.file;
      },
    });
  }

  startArgs(script: string, debug: boolean): StartServerArgs {
    const s = readSettings(vscode.Uri.file(script));
    const args: StartServerArgs = { entryScript: script };
    const modelDir =
      s.modelDir ||
      defaultModelDir(script, (p) => {
        try {
          return fs.statSync(p).isDirectory();
        } catch {
          return false;
        }
      });
    if (modelDir) {
      args.modelDir = modelDir;
    }
    if (s.port !== undefined) {
      args.port = s.port;
    }
    if (s.workerCount !== undefined) {
      args.workerCount = s.workerCount;
    }
    if (Object.keys(s.env).length) {
      args.env = s.env;
    }
    if (debug) {
      args.debug = true;
    }
    return args;
  }

  async start(uri?: vscode.Uri, opts: { debug?: boolean } = {}): Promise<ServerStatus | undefined> {
    const debug = !!opts.debug;
    const daemon = await this.daemons.ensure(true);
    if (!daemon) {
      return undefined;
    }
    const script = await this.entryScript(uri);
    if (!script) {
      void vscode.window.showWarningMessage(
        'AzureML Scoring: no entry script. Open your score.py, set "azmlinfsrv.entryScript", or add a *score*.py to the workspace.',
      );
      return undefined;
    }
    const cur = await this.refreshStatus(daemon);
    if (cur.state === 'running' || cur.state === 'starting') {
      if (cur.entryScript && path.resolve(cur.entryScript) === path.resolve(script) && !!cur.debug === debug) {
        if (debug) {
          await this.attachAll(daemon);
        } else {
          void vscode.window.showInformationMessage(`Scoring server already running${cur.url ? ` at ${cur.url}` : ''}.`);
        }
        return cur;
      }
      await this.stop();
    }
    const args = this.startArgs(script, debug);
    this.logs.appendLine(`Starting ${path.basename(script)}${debug ? ' under the debugger' : ''}: ${JSON.stringify(args)}`);
    this.applyStatus({ state: 'starting', entryScript: script, debug });
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: debug ? 'AzureML Scoring: starting the server under the debugger' : 'AzureML Scoring: starting the server',
        cancellable: true,
      },
      async (progress, token) => {
        progress.report({ message: `${path.basename(script)}: loading and running init()…` });
        token.onCancellationRequested(() => void this.stop());
        const pending = daemon.command<ServerStatus>(DaemonCommands.startServer, args);
        if (debug) {
          void this.attachWhileStarting(daemon, pending);
        }
        try {
          return await pending;
        } catch (e) {
          return { state: 'failed', entryScript: script, debug, error: errorText(e) } as ServerStatus;
        }
      },
    );
    this.applyStatus(result);
    if (debug && result?.state === 'running') {
      await this.attachAll(daemon);
    }
    return result;
  }

  async stop(): Promise<ServerStatus | undefined> {
    const daemon = this.daemons.current();
    await this.debug.stopAll();
    if (!daemon) {
      this.applyStatus({ state: 'stopped' });
      return this.statusValue;
    }
    try {
      const st = await daemon.command<ServerStatus>(DaemonCommands.stopServer, {});
      this.applyStatus(st ?? { state: 'stopped' });
    } catch (e) {
      void vscode.window.showErrorMessage(`AzureML Scoring: stopping the server failed: ${errorText(e)}`);
    }
    return this.statusValue;
  }

  async restart(): Promise<ServerStatus | undefined> {
    const script = this.statusValue.entryScript;
    const debug = !!this.statusValue.debug;
    await this.stop();
    return this.start(script ? vscode.Uri.file(script) : undefined, { debug });
  }

  async refreshStatus(daemon: DaemonConnection): Promise<ServerStatus> {
    try {
      const st = await daemon.command<ServerStatus>(DaemonCommands.status, {});
      if (st && st.state) {
        this.applyStatus(st);
      }
    } catch {
      // keep the last known status
    }
    return this.statusValue;
  }

  // ---------------------------------------------------------------- debugging

  async debugServer(uri?: vscode.Uri): Promise<ServerStatus | undefined> {
    return this.start(uri, { debug: true });
  }

  /** While a debug start is pending, attach to each worker as soon as its listener is up. */
  async attachWhileStarting(daemon: DaemonConnection, pending: Promise<unknown>): Promise<void> {
    let settled = false;
    pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    const deadline = Date.now() + 10 * 60 * 1000;
    let lastError: unknown;
    while (!settled && Date.now() < deadline) {
      try {
        // Listeners come up one worker at a time: keep attaching until the start settles.
        await this.attachAll(daemon);
        lastError = undefined;
      } catch (e) {
        lastError = e;
      }
      await sleep(this.pollMs);
    }
    if (lastError) {
      this.logs.appendLine(`Attaching the debugger failed: ${errorText(lastError)}`);
      void vscode.window.showErrorMessage(`AzureML Scoring: attaching the debugger failed: ${errorText(lastError)}`);
    }
  }

  async attachAll(daemon: DaemonConnection, arg: object = {}): Promise<number> {
    const r = await daemon.command<DebugConfigurationsResult>(DaemonCommands.debugConfigurations, arg);
    const configs = r?.configurations ?? [];
    const problem = r?.error ?? (configs.length ? undefined : r?.message);
    if (problem) {
      throw new Error(problem);
    }
    return this.debug.attach(configs);
  }

  /** After a reload the workers are new processes: attach to them (one round at a time). */
  async reattach(known?: AttachConfiguration[]): Promise<void> {
    const daemon = this.daemons.current();
    if (!daemon) {
      return;
    }
    this.knownConfigs = known?.length ? known : undefined;
    if (this.reattaching) {
      this.reattachAgain = true;
      return;
    }
    this.reattaching = true;
    try {
      do {
        this.reattachAgain = false;
        const configs = this.knownConfigs;
        this.knownConfigs = undefined;
        const n = await (configs ? this.debug.attach(configs) : this.attachAll(daemon)).catch((e) => {
          this.logs.appendLine(`Re-attaching the debugger failed: ${errorText(e)}`);
          return 0;
        });
        if (n) {
          this.logs.appendLine(`Attached the debugger to ${n} new worker(s).`);
        }
      } while (this.reattachAgain);
    } finally {
      this.reattaching = false;
    }
  }

  /** Attach to the running server's workers, or to an azmlinfsrv started by hand. */
  async attach(): Promise<void> {
    const daemon = await this.daemons.ensure(true);
    if (!daemon) {
      return;
    }
    const st = await this.refreshStatus(daemon);
    let found: FoundServer[] = [];
    try {
      found = (await daemon.command<{ servers: FoundServer[] }>(DaemonCommands.findServers, {}))?.servers ?? [];
    } catch (e) {
      this.logs.appendLine(`findServers failed: ${errorText(e)}`);
    }
    const ours = new Set([st.pid, ...(st.workerPids ?? [])].filter((p): p is number => typeof p === 'number'));
    type Item = vscode.QuickPickItem & { pid?: number };
    const items: Item[] = [];
    if (st.state === 'running' || st.state === 'starting') {
      items.push({
        label: '$(server-process) Scoring server started here',
        description: `PID ${st.pid ?? '?'}${st.port ? ` :${st.port}` : ''}`,
        detail: st.entryScript ?? undefined,
      });
    }
    for (const s of found.filter((f) => !ours.has(f.pid))) {
      items.push({
        label: `$(terminal) azmlinfsrv PID ${s.pid}`,
        description: `${s.port ? `:${s.port} ` : ''}workers ${s.workerPids.join(', ') || '—'}`,
        detail: s.entryScript ?? undefined,
        pid: s.pid,
      });
    }
    if (items.length === 0) {
      const choice = await vscode.window.showInformationMessage(
        'AzureML Scoring: no running azmlinfsrv server found to attach to.',
        'Debug Scoring Server',
      );
      if (choice) {
        await this.debugServer();
      }
      return;
    }
    const picked = items.length === 1 && items[0].pid === undefined ? items[0] : await vscode.window.showQuickPick(items, { placeHolder: 'Attach the debugger to…' });
    if (!picked) {
      return;
    }
    if (picked.pid === undefined && !st.debug) {
      // Workers started without the debugger have no listener: restart them with one.
      const choice = await vscode.window.showInformationMessage(
        'AzureML Scoring: the server was not started under the debugger. Restart it with the debugger attached?',
        'Restart with Debugger',
      );
      if (choice) {
        await this.debugServer(st.entryScript ? vscode.Uri.file(st.entryScript) : undefined);
      }
      return;
    }
    try {
      const n = await this.attachAll(daemon, picked.pid === undefined ? {} : { pid: picked.pid });
      if (n === 0) {
        void vscode.window.showInformationMessage('AzureML Scoring: the debugger is already attached.');
      }
    } catch (e) {
      void vscode.window.showErrorMessage(`AzureML Scoring: cannot attach: ${errorText(e)}`);
    }
  }

  // ---------------------------------------------------------------- requests

  /** Sends a request through the daemon, starting the server first when it is not running. */
  async send(req: SendRequestArgs, script?: string): Promise<SendRequestResult> {
    const daemon = await this.daemons.ensure(true);
    if (!daemon) {
      throw new Error('The azmlinfsrv daemon is not available (see the notification).');
    }
    let st = await this.refreshStatus(daemon);
    if (st.state !== 'running') {
      st = (await this.start(script ? vscode.Uri.file(script) : undefined)) ?? st;
    }
    if (st.state !== 'running') {
      throw new Error(`The scoring server is not running${st.error ? `: ${st.error}` : ''}.`);
    }
    return daemon.command<SendRequestResult>(DaemonCommands.sendRequest, req);
  }

  // ---------------------------------------------------------------- status bar menu

  async statusMenu(): Promise<void> {
    const s = this.statusValue;
    const active = s.state === 'running' || s.state === 'starting';
    const items: (vscode.QuickPickItem & { command: string; args?: unknown[] })[] = [];
    if (active) {
      items.push(
        { label: '$(debug-stop) Stop Scoring Server', command: 'azmlinfsrv.stop' },
        { label: '$(debug-restart) Restart Scoring Server', command: 'azmlinfsrv.restart' },
        { label: '$(debug) Attach Debugger to Scoring Server', command: 'azmlinfsrv.attach' },
      );
    } else {
      items.push(
        { label: '$(play) Start Scoring Server', command: 'azmlinfsrv.start' },
        { label: '$(debug-alt) Debug Scoring Server', command: 'azmlinfsrv.debug' },
      );
    }
    items.push({ label: '$(send) Send Sample Request', command: 'azmlinfsrv.sendRequest' });
    if (s.state === 'running' && s.url) {
      items.push({ label: '$(globe) Open Swagger', description: `${s.url}/swagger.json`, command: 'vscode.open', args: [vscode.Uri.parse(`${s.url.replace(/\/+$/, '')}/swagger.json`)] });
    }
    if (s.state === 'failed' && s.errorLocation) {
      items.push({ label: '$(error) Go to Error', description: `${path.basename(s.errorLocation.file)}:${s.errorLocation.line}`, command: 'azmlinfsrv.goToError' });
    }
    items.push({ label: '$(output) Show Scoring Server Logs', command: 'azmlinfsrv.showLogs' });
    const picked = await vscode.window.showQuickPick(items, { placeHolder: describe(s) });
    if (picked) {
      await vscode.commands.executeCommand(picked.command, ...(picked.args ?? []));
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function describe(s: ServerStatus): string {
  const script = s.entryScript ? path.basename(s.entryScript) : 'scoring server';
  switch (s.state) {
    case 'running':
      return `${script} running${s.url ? ` at ${s.url}` : ''}${s.debug ? ' (debug)' : ''}`;
    case 'starting':
      return `${script} starting…`;
    case 'failed':
      return `${script} failed${s.error ? `: ${s.error}` : ''}`;
    default:
      return 'Scoring server stopped';
  }
}

export function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) {
    return String((e as { message: unknown }).message);
  }
  return String(e);
}
