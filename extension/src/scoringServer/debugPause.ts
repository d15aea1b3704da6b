/**
 * Whether a debug session of ours is stopped at a breakpoint. Only the debugger knows: the
 * server's worker just looks busy (in init(), or in run() with a request waiting). A
 * DebugAdapterTracker sees the adapter's `stopped` and `continued` events and the requests that
 * resume the program, for the sessions attached to our server's workers.
 */
import * as vscode from 'vscode';

/** DAP requests that let the program run again (the adapter need not send `continued` for them). */
const RESUMING = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto']);

interface DapMessage {
  type?: string;
  event?: string;
  command?: string;
  success?: boolean;
}

/**
 * A session of our server: attached to one of its workers (the daemon's configurations carry
 * `workerPid`), or an azmlinfsrv launch configuration. An attach to a server started in a
 * terminal (`processId`) is not ours: its pauses say nothing about our server.
 */
export function isOurSession(configuration: vscode.DebugConfiguration): boolean {
  return typeof configuration.workerPid === 'number' || configuration.type === 'azmlinfsrv';
}

/** The paused sessions, moved by what the debug adapter says; each method returns whether `any` changed. */
export class PausedSessions {
  private readonly paused = new Set<string>();

  get any(): boolean {
    return this.paused.size > 0;
  }

  /** A message the adapter sent to the editor. */
  fromAdapter(session: string, m: DapMessage): boolean {
    if (m.type === 'event' && m.event === 'stopped') {
      return this.set(session, true);
    }
    const resumed = (m.type === 'event' && m.event === 'continued') || (m.type === 'response' && !!m.success && RESUMING.has(m.command ?? ''));
    return resumed ? this.set(session, false) : false;
  }

  ended(session: string): boolean {
    return this.set(session, false);
  }

  private set(session: string, paused: boolean): boolean {
    const before = this.any;
    if (paused) {
      this.paused.add(session);
    } else {
      this.paused.delete(session);
    }
    return before !== this.any;
  }
}

/** Tracks every debug session of ours; `onChange(paused)` hears when "any paused" flips. */
export function watchDebugPauses(onChange: (paused: boolean) => void): vscode.Disposable {
  const sessions = new PausedSessions();
  const report = (changed: boolean) => changed && onChange(sessions.any);
  return vscode.debug.registerDebugAdapterTrackerFactory('*', {
    createDebugAdapterTracker(session: vscode.DebugSession): vscode.DebugAdapterTracker | undefined {
      if (!isOurSession(session.configuration)) {
        return undefined;
      }
      return {
        onDidSendMessage: (m: DapMessage) => report(sessions.fromAdapter(session.id, m)),
        onWillStopSession: () => report(sessions.ended(session.id)),
        onExit: () => report(sessions.ended(session.id)),
      };
    },
  });
}
