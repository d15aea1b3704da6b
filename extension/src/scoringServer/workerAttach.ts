/**
 * Attaching the debugger to a debug server's workers: while it starts (listeners come up one
 * worker at a time), and again after a reload (the workers are new processes).
 */
import * as vscode from 'vscode';
import { errorText, LogView } from '../common/logging';
import { AttachConfiguration, DaemonCommands, DaemonConnection, DebugConfigurationsResult } from '../protocol';
import { HandStartedAttach } from './handStarted';

export interface DaemonSource {
  ensure(interactive?: boolean): Promise<DaemonConnection | undefined>;
  current(): DaemonConnection | undefined;
}

export interface DebugAttacher {
  attach(configs: AttachConfiguration[]): Promise<number>;
  stopAll(): Promise<void>;
  isAttached(c: AttachConfiguration): boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long a debug start may wait for its workers' listeners (init() may load a big model). */
const START_ATTACH_LIMIT_MS = 10 * 60 * 1000;

export class WorkerAttach {
  private reattaching = false;
  private reattachAgain = false;
  /** Configurations from the latest status notification, for the next re-attach round. */
  private knownConfigs: AttachConfiguration[] | undefined;
  /** Poll interval while waiting for the debug listeners of a starting server. */
  pollMs = 300;
  /** Servers started by hand: attached through the daemon, followed across their reloads. */
  readonly handStarted: HandStartedAttach;

  constructor(
    private readonly daemons: DaemonSource,
    private readonly debug: DebugAttacher,
    private readonly logs: LogView,
  ) {
    this.handStarted = new HandStartedAttach(daemons, debug, logs);
  }

  /** Attaches to a server started elsewhere (e.g. in a terminal), and again after its reloads. */
  attachToServer(daemon: DaemonConnection, pid: number): Promise<number> {
    return this.handStarted.attach(daemon, pid);
  }

  dispose(): void {
    this.handStarted.dispose();
  }

  /** Attaches to every worker the daemon has a configuration for; returns how many sessions started. */
  async attachAll(daemon: DaemonConnection, arg: object = {}): Promise<number> {
    const r = await daemon.command<DebugConfigurationsResult>(DaemonCommands.debugConfigurations, arg);
    const configs = r?.configurations ?? [];
    const problem = r?.error ?? (configs.length ? undefined : r?.message);
    if (problem) {
      throw new Error(problem);
    }
    return this.debug.attach(configs);
  }

  /** While a debug start is pending, attach to each worker as soon as its listener is up. */
  async whileStarting(daemon: DaemonConnection, pending: Promise<unknown>): Promise<void> {
    let settled = false;
    pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    const deadline = Date.now() + START_ATTACH_LIMIT_MS;
    let lastError: unknown;
    while (!settled && Date.now() < deadline) {
      try {
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

  /** After a reload the workers are new processes: attach to them, one round at a time. */
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
        await this.reattachRound(daemon);
      } while (this.reattachAgain);
    } finally {
      this.reattaching = false;
    }
  }

  private async reattachRound(daemon: DaemonConnection): Promise<void> {
    const configs = this.knownConfigs;
    this.knownConfigs = undefined;
    const n = await (configs ? this.debug.attach(configs) : this.attachAll(daemon)).catch((e) => {
      this.logs.appendLine(`Re-attaching the debugger failed: ${errorText(e)}`);
      return 0;
    });
    if (n) {
      this.logs.appendLine(`Attached the debugger to ${n} new worker(s).`);
    }
  }
}
