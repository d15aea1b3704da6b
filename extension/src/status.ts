import * as path from 'path';
import * as vscode from 'vscode';
import { ServerStatus } from './protocol';

export interface StatusPresentation {
  text: string;
  tooltip: string;
  /** 'error' | 'warning' background, or undefined for the default. */
  background?: 'error' | 'warning';
}

/** Status bar text: stopped / starting… / running :port / failed. */
export function formatStatus(s: ServerStatus): StatusPresentation {
  const script = s.entryScript ? path.basename(s.entryScript) : undefined;
  const dbg = s.debug ? ' (debug)' : '';
  switch (s.state) {
    case 'starting':
      return {
        text: `$(sync~spin) Scoring: starting…${dbg}`,
        tooltip: `AzureML scoring server is starting${script ? ` ${script}` : ''} (loading score.py, running init())`,
      };
    case 'running': {
      const workers = s.workerPids?.length ? `\nWorkers: ${s.workerPids.join(', ')}` : '';
      return {
        text: `${s.debug ? '$(debug-alt)' : '$(radio-tower)'} Scoring: running${s.port ? ` :${s.port}` : ''}${dbg}`,
        tooltip: `AzureML scoring server running${script ? ` ${script}` : ''}${s.url ? ` at ${s.url}` : ''}${s.pid ? `\nServer PID: ${s.pid}` : ''}${workers}\nClick for actions`,
      };
    }
    case 'failed':
      return {
        text: '$(error) Scoring: failed',
        tooltip: `AzureML scoring server failed${s.error ? `: ${s.error}` : ''}\nClick for actions`,
        background: 'error',
      };
    default:
      return { text: '$(circle-slash) Scoring: stopped', tooltip: 'AzureML scoring server stopped\nClick for actions' };
  }
}

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(command: string) {
    this.item = vscode.window.createStatusBarItem('azmlinfsrv.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'AzureML Scoring Server';
    this.item.command = command;
    this.update({ state: 'stopped' });
    this.item.show();
  }

  update(s: ServerStatus): void {
    const p = formatStatus(s);
    this.item.text = p.text;
    this.item.tooltip = p.tooltip;
    this.item.backgroundColor = p.background ? new vscode.ThemeColor(`statusBarItem.${p.background}Background`) : undefined;
  }

  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    this.item.dispose();
  }
}
