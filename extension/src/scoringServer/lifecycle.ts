/** Start, stop and restart the scoring server through the daemon, and send it requests. */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { errorText, LogView } from '../common/logging';
import { readSettings } from '../common/settings';
import { defaultModelDir } from '../entryScript';
import { DaemonCommands, DaemonConnection, SendRequestArgs, SendRequestResult, ServerStatus, StartServerArgs } from '../protocol';
import { pickEntryScript } from './entryScriptPick';
import { isActive, startingWords } from './statusText';
import { StatusTracker } from './statusTracker';
import { DaemonSource, DebugAttacher, WorkerAttach } from './workerAttach';

const NO_ENTRY_SCRIPT =
  'AzureML Scoring: no entry script. Open your score.py, set "azmlinfsrv.entryScript", or add a .py with top-level init() and run() to the workspace.';

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The daemon's startServer arguments for `script`, from the settings of its folder. */
export function startArgs(script: string, debug: boolean): StartServerArgs {
  const s = readSettings(vscode.Uri.file(script));
  const modelDir = s.modelDir || defaultModelDir(script, isDirectory);
  return {
    entryScript: script,
    ...(modelDir ? { modelDir } : {}),
    ...(s.port !== undefined ? { port: s.port } : {}),
    ...(s.workerCount !== undefined ? { workerCount: s.workerCount } : {}),
    ...(Object.keys(s.env).length ? { env: s.env } : {}),
    ...(debug ? { debug: true } : {}),
  };
}

/** True when `cur` already serves `script` the way asked (with or without the debugger). */
export function servesAlready(cur: ServerStatus, script: string, debug: boolean): boolean {
  return isActive(cur) && !!cur.entryScript && path.resolve(cur.entryScript) === path.resolve(script) && !!cur.debug === debug;
}

export interface StartOptions {
  debug?: boolean;
  /** startServer arguments that override the settings (an F5 launch configuration's). */
  args?: Partial<StartServerArgs>;
}

export class ServerLifecycle {
  constructor(
    private readonly daemons: DaemonSource,
    private readonly tracker: StatusTracker,
    private readonly workers: WorkerAttach,
    private readonly debug: DebugAttacher,
    private readonly logs: LogView,
  ) {}

  /** `opts.args` (a launch configuration's) override the settings and always start afresh. */
  async start(uri?: vscode.Uri, opts: StartOptions = {}): Promise<ServerStatus | undefined> {
    const debug = !!opts.debug;
    const daemon = await this.daemons.ensure(true);
    if (!daemon) {
      return undefined;
    }
    const script = await pickEntryScript(uri);
    if (!script) {
      void vscode.window.showWarningMessage(NO_ENTRY_SCRIPT);
      return undefined;
    }
    const cur = await this.tracker.refresh(daemon);
    if (!opts.args && servesAlready(cur, script, debug)) {
      await this.alreadyServing(daemon, cur, debug);
      return cur;
    }
    if (isActive(cur)) {
      await this.stop();
    }
    const result = await this.launch(daemon, script, debug, opts.args);
    this.tracker.apply(result);
    if (debug && result?.state === 'running') {
      await this.workers.attachAll(daemon);
    }
    return result;
  }

  private async alreadyServing(daemon: DaemonConnection, cur: ServerStatus, debug: boolean): Promise<void> {
    if (debug) {
      await this.workers.attachAll(daemon);
    } else {
      void vscode.window.showInformationMessage(`Scoring server already running${cur.url ? ` at ${cur.url}` : ''}.`);
    }
  }

  /** startServer under a cancellable progress notification; a debug start attaches as workers come up. */
  private async launch(daemon: DaemonConnection, script: string, debug: boolean, overrides: Partial<StartServerArgs> = {}): Promise<ServerStatus> {
    const args = { ...startArgs(script, debug), ...overrides };
    this.logs.appendLine(`Starting ${path.basename(script)}${debug ? ' under the debugger' : ''}: ${JSON.stringify(args)}`);
    this.tracker.apply({ state: 'starting', entryScript: script, debug });
    const pending = daemon
      .command<ServerStatus>(DaemonCommands.startServer, args)
      .catch((e: unknown) => ({ state: 'failed', entryScript: script, debug, error: errorText(e) }) as ServerStatus);
    if (debug) {
      void this.workers.whileStarting(daemon, pending);
    }
    await this.startProgress(script, debug, pending);
    return pending;
  }

  /**
   * The start's progress notification: says what the start is doing (importing, init(), waiting
   * for or paused in the debugger) and closes the moment the state leaves starting, not when
   * the daemon's answer arrives a little later.
   */
  private startProgress(script: string, debug: boolean, pending: Promise<unknown>): Thenable<void> {
    const title = debug ? 'AzureML Scoring: starting the server under the debugger' : 'AzureML Scoring: starting the server';
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => void this.stop());
      let said = '';
      const say = () => {
        const words = `${path.basename(script)}: ${startingWords(this.tracker.status, { paused: this.tracker.paused })}…`;
        if (words !== said) {
          said = words;
          progress.report({ message: words });
        }
      };
      say();
      let sub: vscode.Disposable | undefined;
      const left = new Promise<void>((resolve) => {
        sub = this.tracker.onDidChange((s) => (s.state === 'starting' ? say() : resolve()));
      });
      try {
        await Promise.race([pending, left]);
      } finally {
        sub?.dispose();
      }
    });
  }

  async stop(): Promise<ServerStatus | undefined> {
    const daemon = this.daemons.current();
    await this.debug.stopAll();
    if (!daemon) {
      this.tracker.apply({ state: 'stopped' });
      return this.tracker.status;
    }
    try {
      const st = await daemon.command<ServerStatus>(DaemonCommands.stopServer, {});
      this.tracker.apply(st ?? { state: 'stopped' });
    } catch (e) {
      void vscode.window.showErrorMessage(`AzureML Scoring: stopping the server failed: ${errorText(e)}`);
    }
    return this.tracker.status;
  }

  /** Stops and starts the same script, with the debugger if it had it. */
  async restart(): Promise<ServerStatus | undefined> {
    const { entryScript, debug } = this.tracker.status;
    await this.stop();
    return this.start(entryScript ? vscode.Uri.file(entryScript) : undefined, { debug: !!debug });
  }

  /** Sends a request through the daemon, starting the server first when it is not running. */
  async send(req: SendRequestArgs, script?: string): Promise<SendRequestResult> {
    const daemon = await this.daemons.ensure(true);
    if (!daemon) {
      throw new Error('The azmlinfsrv daemon is not available (see the notification).');
    }
    let st = await this.tracker.refresh(daemon);
    if (st.state !== 'running') {
      st = (await this.start(script ? vscode.Uri.file(script) : undefined)) ?? st;
    }
    if (st.state !== 'running') {
      throw new Error(`The scoring server is not running${st.error ? `: ${st.error}` : ''}.`);
    }
    return daemon.command<SendRequestResult>(DaemonCommands.sendRequest, req);
  }
}
