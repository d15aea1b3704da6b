/**
 * The status bar item and the context keys: the server's one shown state (statusText.ts) at a
 * glance, so the palette and menus offer only what applies. A reload that worked is shown for
 * a few seconds, then the item says running again.
 */
import * as vscode from 'vscode';
import { CONTEXT_KEYS, STATUS_BAR_ID } from '../common/constants';
import { ServerStatus } from '../protocol';
import { contextValues, formatStatus, isNewReload, ViewFlags } from './statusText';

/** How long "reloaded" stays in the status bar. */
export const RELOADED_SHOWN_MS = 3000;

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private status: ServerStatus = { state: 'stopped' };
  private paused = false;
  private reloadedTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly context = new Map<string, string>();
  /** How long "reloaded" is shown (tests shorten it). */
  reloadedMs = RELOADED_SHOWN_MS;

  constructor() {
    this.item = vscode.window.createStatusBarItem(STATUS_BAR_ID, vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'AzureML Scoring Server';
    this.update({ state: 'stopped' });
    this.item.show();
  }

  /** A new status from the daemon, and whether a debug session of ours is paused. */
  update(s: ServerStatus, paused = false): void {
    if (isNewReload(this.status, s)) {
      this.flashReloaded();
    } else if (s.state !== 'running' || s.reloading) {
      this.stopFlash();
    }
    this.status = s;
    this.paused = paused;
    this.render();
  }

  private flashReloaded(): void {
    this.stopFlash();
    this.reloadedTimer = setTimeout(() => {
      this.reloadedTimer = undefined;
      this.render();
    }, this.reloadedMs);
  }

  private stopFlash(): void {
    if (this.reloadedTimer) {
      clearTimeout(this.reloadedTimer);
      this.reloadedTimer = undefined;
    }
  }

  private render(): void {
    const flags: ViewFlags = { paused: this.paused, reloaded: !!this.reloadedTimer };
    const p = formatStatus(this.status, flags);
    this.item.text = p.text;
    this.item.tooltip = p.tooltip;
    this.item.command = p.command;
    this.item.backgroundColor = p.background ? new vscode.ThemeColor(`statusBarItem.${p.background}Background`) : undefined;
    const values = contextValues(this.status, flags);
    this.setContext(CONTEXT_KEYS.serverState, values.serverState);
    this.setContext(CONTEXT_KEYS.shownState, values.shownState);
  }

  /** Sets a context key when its value changes (each setContext is a round trip to the workbench). */
  private setContext(key: string, value: string): void {
    if (this.context.get(key) !== value) {
      this.context.set(key, value);
      void vscode.commands.executeCommand('setContext', key, value);
    }
  }

  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    this.stopFlash();
    this.item.dispose();
  }
}
