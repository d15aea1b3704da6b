/**
 * The last known status of the scoring server, and what changes to it set off: the status
 * view is updated, listeners hear of it, a new failure is announced, and a debug server's new
 * workers are attached to.
 */
import * as vscode from 'vscode';
import { AttachConfiguration, DaemonConnection, DaemonCommands, ServerStatus } from '../protocol';
import { isActive } from './statusText';

export interface StatusView {
  /** `paused`: a debug session of ours is stopped at a breakpoint. */
  update(s: ServerStatus, paused?: boolean): void;
}

export interface StatusReactions {
  /** A failure the user has not been told about yet. */
  onFailure(s: ServerStatus): void;
  /** A debug server's workers changed: attach to the new ones. */
  onNewWorkers(configs: AttachConfiguration[] | undefined): void;
}

function samePids(a: number[] | undefined, b: number[] | undefined): boolean {
  const x = [...(a ?? [])].sort();
  const y = [...(b ?? [])].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Whether `next`, after `prev`, is a new failure and whether it brings workers to attach to. */
export function reactionsTo(
  prev: ServerStatus,
  next: ServerStatus,
  isAttached: (c: AttachConfiguration) => boolean,
): { failure: boolean; reattach: boolean } {
  const failure = next.state === 'failed' && (prev.state !== 'failed' || prev.error !== next.error);
  // A reload's new workers wait for the debugger before init(): their listeners show up in
  // debugConfigurations before they appear in workerPids.
  const fresh = (next.debugConfigurations ?? []).some((c) => !isAttached(c));
  const reattach = !!next.debug && isActive(next) && (fresh || !samePids(prev.workerPids, next.workerPids));
  return { failure, reattach };
}

export class StatusTracker implements vscode.Disposable {
  private value: ServerStatus = { state: 'stopped' };
  private pausedValue = false;
  private readonly changed = new vscode.EventEmitter<ServerStatus>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly view: StatusView,
    private readonly isAttached: (c: AttachConfiguration) => boolean,
    private readonly reactions: StatusReactions,
  ) {}

  get status(): ServerStatus {
    return this.value;
  }

  /** A debug session of ours is stopped at a breakpoint (only the editor knows). */
  get paused(): boolean {
    return this.pausedValue;
  }

  /** From the debug sessions' stopped/continued events: shown, and heard by listeners. */
  setPaused(paused: boolean): void {
    if (paused !== this.pausedValue) {
      this.pausedValue = paused;
      this.view.update(this.value, paused);
      this.changed.fire(this.value);
    }
  }

  /** Takes a status from the daemon (a notification or a command's answer); ignores anything else. */
  apply(s: ServerStatus | undefined | null): void {
    if (!s || typeof s !== 'object' || !s.state) {
      return;
    }
    const prev = this.value;
    this.value = s;
    this.view.update(s, this.pausedValue);
    this.changed.fire(s);
    const { failure, reattach } = reactionsTo(prev, s, this.isAttached);
    if (failure) {
      this.reactions.onFailure(s);
    }
    if (reattach) {
      this.reactions.onNewWorkers(s.debugConfigurations);
    }
  }

  /** Asks the daemon; on no answer the last known status stands. */
  async refresh(daemon: DaemonConnection): Promise<ServerStatus> {
    try {
      this.apply(await daemon.command<ServerStatus>(DaemonCommands.status, {}));
    } catch {
      // keep the last known status
    }
    return this.value;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
