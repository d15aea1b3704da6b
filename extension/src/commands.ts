/** The palette commands: each id from common/constants bound to a controller flow. */
import * as vscode from 'vscode';
import { COMMANDS } from './common/constants';
import { errorText, logError, LogView } from './common/logging';
import { RequestHistory } from './history';
import { PanelHost, RequestPanel } from './requestPanel';
import { Controller } from './scoringServer/controller';

/** Wraps a command so a failure is logged and shown, never an unhandled rejection. */
function reported<A extends unknown[]>(logs: LogView, name: string, fn: (...a: A) => Promise<unknown>) {
  return async (...a: A): Promise<void> => {
    try {
      await fn(...a);
    } catch (e) {
      logError(logs, `${name} failed: ${errorText(e)}`);
      void vscode.window.showErrorMessage(`AzureML Scoring: ${name} failed: ${errorText(e)}`);
    }
  };
}

/** Menus and CodeLens pass the file; the palette passes nothing. */
const uriArg = (u: unknown) => (u instanceof vscode.Uri ? u : undefined);

export interface CommandTargets {
  extensionUri: vscode.Uri;
  controller: Controller;
  panelHost: PanelHost;
  history: RequestHistory;
  logs: LogView;
  /** The scoring server's own output ("Show Scoring Server Logs"); the extension's log when absent. */
  serverLog?: LogView;
}

export function registerCommands(t: CommandTargets): vscode.Disposable[] {
  const ctl = t.controller;
  const bind = <A extends unknown[]>(id: string, name: string, fn: (...a: A) => Promise<unknown>) =>
    vscode.commands.registerCommand(id, reported(t.logs, name, fn));
  return [
    bind(COMMANDS.start, 'Start', (u?: unknown) => ctl.start(uriArg(u))),
    bind(COMMANDS.stop, 'Stop', () => ctl.stop()),
    bind(COMMANDS.restart, 'Restart', () => ctl.restart()),
    bind(COMMANDS.debug, 'Debug', (u?: unknown) => ctl.debugServer(uriArg(u))),
    bind(COMMANDS.attach, 'Attach', () => ctl.attach()),
    bind(COMMANDS.sendRequest, 'Send Sample Request', (u?: unknown) => RequestPanel.show(t.extensionUri, t.panelHost, t.history, uriArg(u))),
    vscode.commands.registerCommand(COMMANDS.showLogs, () => (t.serverLog ?? t.logs).show()),
    bind(COMMANDS.statusMenu, 'Menu', () => ctl.statusMenu()),
    bind(COMMANDS.goToError, 'Go to Error', () => ctl.goToError()),
  ];
}
