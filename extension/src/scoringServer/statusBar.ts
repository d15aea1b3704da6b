/** The status bar item: the server's state at a glance, a click opens the status menu. */
import * as vscode from 'vscode';
import { STATUS_BAR_ID } from '../common/constants';
import { ServerStatus } from '../protocol';
import { formatStatus } from './statusText';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(command: string) {
    this.item = vscode.window.createStatusBarItem(STATUS_BAR_ID, vscode.StatusBarAlignment.Left, 10);
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
