/**
 * "Attach Debugger to Scoring Server": to the server started here (restarting it under the
 * debugger when it has no listeners), or to an azmlinfsrv started by hand in a terminal.
 */
import * as vscode from 'vscode';
import { errorText, LogView } from '../common/logging';
import { DaemonCommands, DaemonConnection, FoundServer, ServerStatus } from '../protocol';
import { isActive } from './statusText';
import { StatusTracker } from './statusTracker';
import { DaemonSource, WorkerAttach } from './workerAttach';

/** A quick pick entry; `pid` is set for a server started elsewhere, unset for ours. */
export type AttachTarget = vscode.QuickPickItem & { pid?: number };

/** Our server (when active) first, then the servers found on the machine that are not ours. */
export function attachTargets(st: ServerStatus, found: FoundServer[]): AttachTarget[] {
  const ours = new Set([st.pid, ...(st.workerPids ?? [])].filter((p): p is number => typeof p === 'number'));
  const items: AttachTarget[] = [];
  if (isActive(st)) {
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
  return items;
}

export interface AttachCommandDeps {
  daemons: DaemonSource;
  tracker: StatusTracker;
  workers: WorkerAttach;
  logs: LogView;
  /** Starts (or restarts) the server under the debugger. */
  debugServer(uri?: vscode.Uri): Promise<unknown>;
}

export class AttachCommand {
  constructor(private readonly d: AttachCommandDeps) {}

  async run(): Promise<void> {
    const daemon = await this.d.daemons.ensure(true);
    if (!daemon) {
      return;
    }
    const st = await this.d.tracker.refresh(daemon);
    const items = attachTargets(st, await this.findServers(daemon));
    if (items.length === 0) {
      await this.offerDebugStart();
      return;
    }
    const picked = items.length === 1 && items[0].pid === undefined ? items[0] : await vscode.window.showQuickPick(items, { placeHolder: 'Attach the debugger to…' });
    if (!picked) {
      return;
    }
    if (picked.pid === undefined && !st.debug) {
      await this.offerDebugRestart(st);
      return;
    }
    await this.attach(daemon, picked.pid);
  }

  private async findServers(daemon: DaemonConnection): Promise<FoundServer[]> {
    try {
      return (await daemon.command<{ servers: FoundServer[] }>(DaemonCommands.findServers, {}))?.servers ?? [];
    } catch (e) {
      this.d.logs.appendLine(`findServers failed: ${errorText(e)}`);
      return [];
    }
  }

  private async offerDebugStart(): Promise<void> {
    const choice = await vscode.window.showInformationMessage('AzureML Scoring: no running azmlinfsrv server found to attach to.', 'Debug Scoring Server');
    if (choice) {
      await this.d.debugServer();
    }
  }

  /** Workers started without the debugger have no listener: restart them with one. */
  private async offerDebugRestart(st: ServerStatus): Promise<void> {
    const choice = await vscode.window.showInformationMessage(
      'AzureML Scoring: the server was not started under the debugger. Restart it with the debugger attached?',
      'Restart with Debugger',
    );
    if (choice) {
      await this.d.debugServer(st.entryScript ? vscode.Uri.file(st.entryScript) : undefined);
    }
  }

  private async attach(daemon: DaemonConnection, pid: number | undefined): Promise<void> {
    try {
      const n = pid === undefined ? await this.d.workers.attachAll(daemon) : await this.d.workers.attachToServer(daemon, pid);
      if (n === 0) {
        void vscode.window.showInformationMessage('AzureML Scoring: the debugger is already attached.');
      }
    } catch (e) {
      void vscode.window.showErrorMessage(`AzureML Scoring: cannot attach: ${errorText(e)}`);
    }
  }
}
