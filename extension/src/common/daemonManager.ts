/**
 * Owns the daemon process: picks the interpreter, checks that it can run the daemon (it exists
 * and is Python 3.10+; azmlinfsrv and its libraries come with the extension, nothing is
 * installed there), and (re)starts the language client.
 */
import * as vscode from 'vscode';
import { Interpreter, InterpreterCheck, describeSource } from './python';
import { PROMPTED_KEY, SECTION } from './constants';
import { DaemonConnection, InitializationOptions } from '../protocol';

export interface ManagedClient extends DaemonConnection {
  readonly python: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface DaemonManagerDeps {
  resolveInterpreter(): Promise<Interpreter>;
  checkInterpreter(python: string): Promise<InterpreterCheck>;
  initOptions(): InitializationOptions;
  /** The azmlinfsrv.pythonPath setting as the daemon was started with it. */
  settingPath(): string;
  createClient(python: string, init: InitializationOptions): ManagedClient;
  log(line: string): void;
  /** Python extension present: offer "Select Interpreter". */
  canSelectInterpreter(): boolean;
  /** Workspace trust: the daemon runs the folder's interpreter and score.py, so never in an untrusted folder. */
  isTrusted(): boolean;
  /** Which interpreters the unasked-for "cannot run with" message was shown for (remembered across sessions). */
  prompts: PromptMemory;
}

export interface PromptMemory {
  shown(key: string): boolean;
  remember(key: string): void;
}

/** A PromptMemory kept in a Memento (the workspace state): shown once, remembered across sessions. */
export function mementoPrompts(m: vscode.Memento): PromptMemory {
  const list = () => m.get<string[]>(PROMPTED_KEY) ?? [];
  return {
    shown: (key) => list().includes(key),
    remember: (key) => void m.update(PROMPTED_KEY, [...new Set([...list(), key])]),
  };
}

export const SELECT_INTERPRETER = 'Select Interpreter';
export const OPEN_SETTINGS = 'Open Settings';
export const MANAGE_TRUST = 'Manage Workspace Trust';
export const UNTRUSTED =
  'AzureML Scoring: this folder is not trusted. Starting the scoring server runs its score.py and Python interpreter: trust the folder first.';

export class DaemonManager implements vscode.Disposable {
  private client: ManagedClient | undefined;
  private starting: Promise<ManagedClient | undefined> | undefined;
  private interpreterValue: Interpreter | undefined;
  /** The interpreter of the last daemon, kept for the debug adapter across daemon restarts. */
  private lastPython: string | undefined;
  /** The settings the running daemon was started with (to ignore no-op configuration events). */
  startedWith: { settingPath: string; reloadOnSave: boolean } | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the daemon was stopped or replaced (its server went with it). */
  readonly onDidReset = this.changed.event;

  constructor(private readonly deps: DaemonManagerDeps) {}

  get interpreter(): Interpreter | undefined {
    return this.interpreterValue;
  }

  get python(): string | undefined {
    return this.client?.python ?? this.interpreterValue?.path ?? this.lastPython;
  }

  current(): DaemonConnection | undefined {
    return this.client;
  }

  /** The running daemon, starting it if needed; undefined (after telling the user why) when it cannot run. */
  ensure(interactive = true): Promise<ManagedClient | undefined> {
    if (this.client) {
      return Promise.resolve(this.client);
    }
    if (!this.starting) {
      this.starting = this.startNew(interactive).finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  private async startNew(interactive: boolean): Promise<ManagedClient | undefined> {
    if (!this.deps.isTrusted()) {
      this.deps.log('Untrusted folder: the daemon is not started.');
      if (interactive) {
        void this.offerTrust();
      }
      return undefined;
    }
    const interp = await this.deps.resolveInterpreter();
    this.interpreterValue = interp;
    this.deps.log(`Interpreter: ${interp.path} (${describeSource(interp.source)})`);
    const check = await this.deps.checkInterpreter(interp.path);
    if (!check.ok) {
      this.unusable(interp, check, interactive);
      return undefined;
    }
    const init = this.deps.initOptions();
    const client = this.deps.createClient(interp.path, init);
    try {
      await client.start();
    } catch (e) {
      this.deps.log(`The daemon failed to start: ${String(e)}`);
      void vscode.window.showErrorMessage(`AzureML Scoring: the daemon (run by ${interp.path}) failed to start: ${String(e)}`);
      return undefined;
    }
    this.client = client;
    this.lastPython = interp.path;
    this.startedWith = { settingPath: this.deps.settingPath(), reloadOnSave: init.reloadOnSave };
    this.deps.log(`Daemon started with ${interp.path}`);
    return client;
  }

  private unusable(interp: Interpreter, check: InterpreterCheck, interactive: boolean): void {
    this.deps.log(`Cannot run the daemon with ${interp.path}: ${check.detail ?? ''}`);
    // Asked for (a command): always answer. Unasked (activation): once per interpreter, ever.
    if (interactive || !this.deps.prompts.shown(interp.path)) {
      this.deps.prompts.remember(interp.path);
      void this.explainUnusable(interp, check.detail);
    }
  }

  private async offerTrust(): Promise<void> {
    if ((await vscode.window.showWarningMessage(UNTRUSTED, MANAGE_TRUST)) === MANAGE_TRUST) {
      await vscode.commands.executeCommand('workbench.trust.manage');
    }
  }

  /** One message: which interpreter, why it cannot run the daemon, and where to choose another. */
  private async explainUnusable(interp: Interpreter, detail?: string): Promise<void> {
    const button = this.deps.canSelectInterpreter() ? SELECT_INTERPRETER : OPEN_SETTINGS;
    const choice = await vscode.window.showErrorMessage(
      `AzureML Scoring cannot run with ${interp.path} (${describeSource(interp.source)})${detail ? `: ${detail}` : ''}. ` +
        'Choose a Python 3.10 or newer interpreter (the one with your model\'s packages).',
      button,
    );
    if (choice === SELECT_INTERPRETER) {
      await vscode.commands.executeCommand('python.setInterpreter');
    } else if (choice === OPEN_SETTINGS) {
      await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.pythonPath`);
    }
  }

  /** Stops the daemon (and with it its server); the next ensure() starts a fresh one. */
  async reset(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.interpreterValue = undefined;
    this.startedWith = undefined;
    if (c) {
      await c.stop();
      this.changed.fire();
    }
  }

  /** The language client gave up on the daemon (crashed too often or was stopped). */
  clientStopped(c: DaemonConnection): void {
    if (this.client === c) {
      this.client = undefined;
      this.changed.fire();
    }
  }

  async dispose(): Promise<void> {
    await this.reset();
    this.changed.dispose();
  }
}
