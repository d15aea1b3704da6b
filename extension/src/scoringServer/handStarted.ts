/**
 * Attaching to a server started by hand (in a terminal), and staying attached across its
 * reloads. The daemon does not follow such a server, so nothing announces its new workers:
 * instead, when the session of one of its workers ends because that worker went away (a
 * reload retired it, a crash replaced it), the daemon is asked again and the workers not
 * seen before are attached to. A session the user ended while its worker lives is left so.
 */
import * as vscode from 'vscode';
import { errorText, LogView } from '../common/logging';
import { AttachConfiguration, DaemonCommands, DaemonConnection, DebugConfigurationsResult } from '../protocol';
import type { DaemonSource, DebugAttacher } from './workerAttach';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The worker a configuration points at (connect configurations carry it; PID ones are it). */
export function workerOf(c: { [key: string]: unknown }): number | undefined {
  const pid = c.workerPid ?? c.processId;
  return typeof pid === 'number' ? pid : undefined;
}

/** Whether a process exists (signal 0 only checks). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class HandStartedAttach implements vscode.Disposable {
  /** The followed server's pid, and every worker attached to (or offered) so far. */
  private server: number | undefined;
  private readonly seen = new Set<number>();
  private subscription: vscode.Disposable | undefined;
  private following: Promise<void> = Promise.resolve();
  /** Between asks while waiting for a reload's new worker, and how long to wait at most. */
  pollMs = 500;
  limitMs = 120_000;
  /** How long a worker whose session ended may take to exit before it counts as still running. */
  exitGraceMs = 10_000;

  constructor(
    private readonly daemons: DaemonSource,
    private readonly debug: DebugAttacher,
    private readonly logs: LogView,
    private readonly alive: (pid: number) => boolean = pidAlive,
  ) {}

  /** Attaches to the server's workers and follows it; throws when the daemon says it cannot. */
  async attach(daemon: DaemonConnection, pid: number): Promise<number> {
    const configs = await this.ask(daemon, pid);
    if (this.server !== pid) {
      this.server = pid;
      this.seen.clear();
    }
    configs.forEach((c) => this.remember(c));
    this.subscription ??= vscode.debug.onDidTerminateDebugSession((s) => this.ended(s.configuration));
    return this.debug.attach(configs);
  }

  private async ask(daemon: DaemonConnection, pid: number): Promise<AttachConfiguration[]> {
    const r = await daemon.command<DebugConfigurationsResult>(DaemonCommands.debugConfigurations, { pid });
    const configs = r?.configurations ?? [];
    const problem = r?.error ?? (configs.length ? undefined : r?.message);
    if (problem) {
      throw new Error(problem);
    }
    return configs;
  }

  private remember(c: AttachConfiguration): void {
    const worker = workerOf(c);
    if (worker !== undefined) {
      this.seen.add(worker);
    }
  }

  private ended(config: vscode.DebugConfiguration): void {
    const worker = workerOf(config);
    if (this.server === undefined || worker === undefined || !this.seen.has(worker)) {
      return;
    }
    const server = this.server;
    this.following = this.following.then(async () => {
      if (await this.exits(worker)) {
        await this.attachNewWorkers(server);
      }
    });
  }

  /** Whether the worker exits soon: a session ends as its worker starts exiting, a little
   * before the process is gone; one the user ended leaves the worker running. */
  private async exits(worker: number): Promise<boolean> {
    const deadline = Date.now() + this.exitGraceMs;
    while (this.alive(worker)) {
      if (Date.now() >= deadline) {
        return false;
      }
      await sleep(this.pollMs);
    }
    return true;
  }

  /** A followed worker is gone: wait (bounded) for its successor and attach to it. */
  private async attachNewWorkers(server: number): Promise<void> {
    const deadline = Date.now() + this.limitMs;
    let lastError: unknown;
    while (this.server === server && Date.now() < deadline) {
      const daemon = this.daemons.current();
      if (!daemon || !this.alive(server)) {
        return this.stop(server);
      }
      const configs = await this.ask(daemon, server).catch((e) => ((lastError = e), []));
      const fresh = configs.filter((c) => !this.seen.has(workerOf(c) ?? -1));
      if (fresh.length) {
        fresh.forEach((c) => this.remember(c));
        const n = await this.debug.attach(fresh).catch((e) => ((lastError = e), 0));
        this.logs.appendLine(`Attached the debugger to ${n} new worker(s) of azmlinfsrv ${server}.`);
        return;
      }
      await sleep(this.pollMs);
    }
    if (lastError) {
      this.logs.appendLine(`Re-attaching to azmlinfsrv ${server} failed: ${errorText(lastError)}`);
    }
  }

  private stop(server: number): void {
    if (this.server === server) {
      this.server = undefined;
      this.seen.clear();
    }
  }

  dispose(): void {
    this.subscription?.dispose();
    this.subscription = undefined;
    this.server = undefined;
  }
}
