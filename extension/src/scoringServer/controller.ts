/**
 * The scoring server as the commands see it: one object over the parts that track its status
 * (statusTracker), start and stop it (lifecycle), attach the debugger (workerAttach,
 * attachCommand) and show its menu (statusMenu). Each method hands off to one of them.
 */
import * as vscode from 'vscode';
import { LogView } from '../common/logging';
import { DaemonConnection, SendRequestArgs, SendRequestResult, ServerStatus } from '../protocol';
import { AttachCommand } from './attachCommand';
import { pickEntryScript } from './entryScriptPick';
import { goTo, notifyFailure } from './failureNotice';
import { ServerLifecycle, StartOptions } from './lifecycle';
import { showStatusMenu } from './statusMenu';
import { StatusTracker, StatusView } from './statusTracker';
import { DaemonSource, DebugAttacher, WorkerAttach } from './workerAttach';

export type { DaemonSource, DebugAttacher } from './workerAttach';
export type { StatusView } from './statusTracker';

export class Controller implements vscode.Disposable {
  private readonly tracker: StatusTracker;
  private readonly workers: WorkerAttach;
  private readonly lifecycle: ServerLifecycle;
  private readonly attachCommand: AttachCommand;
  readonly onDidChangeStatus: vscode.Event<ServerStatus>;

  constructor(daemons: DaemonSource, view: StatusView, logs: LogView, debug: DebugAttacher) {
    this.workers = new WorkerAttach(daemons, debug, logs);
    this.tracker = new StatusTracker(view, (c) => debug.isAttached(c), {
      onFailure: (s) => void notifyFailure(s, logs),
      onNewWorkers: (configs) => void this.workers.reattach(configs),
    });
    this.onDidChangeStatus = this.tracker.onDidChange;
    this.lifecycle = new ServerLifecycle(daemons, this.tracker, this.workers, debug, logs);
    const debugServer = (uri?: vscode.Uri) => this.debugServer(uri);
    this.attachCommand = new AttachCommand({ daemons, tracker: this.tracker, workers: this.workers, logs, debugServer });
  }

  get status(): ServerStatus {
    return this.tracker.status;
  }

  /** Poll interval while waiting for the debug listeners of a starting server. */
  set pollMs(ms: number) {
    this.workers.pollMs = ms;
  }

  applyStatus(s: ServerStatus | undefined | null): void {
    this.tracker.apply(s);
  }

  /** A debug session of ours stopped at a breakpoint, or went on (debugPause.ts). */
  setDebugPaused(paused: boolean): void {
    this.tracker.setPaused(paused);
  }

  /** The daemon went away: its server went with it. */
  daemonGone(): void {
    this.tracker.apply({ state: 'stopped' });
  }

  refreshStatus(daemon: DaemonConnection): Promise<ServerStatus> {
    return this.tracker.refresh(daemon);
  }

  entryScript(uri?: vscode.Uri): Promise<string | undefined> {
    return pickEntryScript(uri);
  }

  start(uri?: vscode.Uri, opts: StartOptions = {}): Promise<ServerStatus | undefined> {
    return this.lifecycle.start(uri, opts);
  }

  debugServer(uri?: vscode.Uri): Promise<ServerStatus | undefined> {
    return this.lifecycle.start(uri, { debug: true });
  }

  stop(): Promise<ServerStatus | undefined> {
    return this.lifecycle.stop();
  }

  restart(): Promise<ServerStatus | undefined> {
    return this.lifecycle.restart();
  }

  attach(): Promise<void> {
    return this.attachCommand.run();
  }

  send(req: SendRequestArgs, script?: string): Promise<SendRequestResult> {
    return this.lifecycle.send(req, script);
  }

  statusMenu(): Promise<void> {
    return showStatusMenu(this.tracker.status);
  }

  /** Opens the failing line of the last failure, when the daemon located it. */
  async goToError(): Promise<void> {
    const loc = this.tracker.status.errorLocation;
    if (loc) {
      await goTo(loc.file, loc.line);
    }
  }

  dispose(): void {
    this.tracker.dispose();
    this.workers.dispose();
  }
}
