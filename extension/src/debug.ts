/**
 * Debug sessions from the daemon's attach configurations. With the Python Debugger extension
 * installed we use its `debugpy` type; without it, our own type (see DebugAdapterFactory),
 * so debugging works with no other extension.
 */
import * as vscode from 'vscode';
import { AttachConfiguration } from './protocol';
import { launcherCommand } from './common/python';

export const OWN_DEBUG_TYPE = 'azmlinfsrv-debugpy';
export const KEY_FIELD = '__azmlinfsrvKey';

interface ExtensionLike {
  packageJSON: { contributes?: { debuggers?: { type?: string }[] } };
}

/** True when some installed extension contributes the debug type. */
export function isDebugTypeContributed(extensions: readonly ExtensionLike[], type: string): boolean {
  return extensions.some((e) => (e.packageJSON?.contributes?.debuggers ?? []).some((d) => d.type === type));
}

export function chooseDebugType(extensions: readonly ExtensionLike[]): string {
  return isDebugTypeContributed(extensions, 'debugpy') ? 'debugpy' : OWN_DEBUG_TYPE;
}

/** Identifies the debuggee a configuration points at, to attach to each worker once. */
export function configKey(c: AttachConfiguration): string {
  if (c.connect) {
    return `connect:${c.connect.host}:${c.connect.port}`;
  }
  if (c.processId !== undefined) {
    return `pid:${c.processId}`;
  }
  return `name:${c.name ?? ''}`;
}

/** A worker's session is named for what it is, `score.py worker 1234`, when the script is known. */
export function toSessionConfig(c: AttachConfiguration, type: string, script?: string): vscode.DebugConfiguration {
  const pid = typeof c.workerPid === 'number' ? c.workerPid : c.processId;
  const name =
    script && pid !== undefined
      ? `${script.split(/[\\/]/).pop()} worker ${pid}`
      : (c.name ?? (c.processId !== undefined ? `AzureML Scoring: attach to PID ${c.processId}` : `AzureML Scoring: worker ${c.connect?.port ?? ''}`));
  return { ...c, type, request: 'attach', name, [KEY_FIELD]: configKey(c) };
}

/**
 * The adapter for our own debug type, as the Python Debugger extension does it: a worker that
 * called debugpy.listen() already runs an adapter, so a `connect` configuration talks to it
 * directly (DebugAdapterServer); a `processId` attach (PID injection) needs a fresh adapter:
 * debugpy's, from the libraries the extension carries (`launch.py adapter`), since the user's
 * environment need not have debugpy.
 */
export class DebugAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(
    private readonly python: () => string | undefined,
    private readonly extensionPath: string,
  ) {}

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    const connect = session.configuration.connect as { host?: string; port?: number } | undefined;
    if (session.configuration.request === 'attach' && connect?.port) {
      return new vscode.DebugAdapterServer(connect.port, connect.host || '127.0.0.1');
    }
    const python = this.python();
    if (!python) {
      throw new Error('No Python interpreter for the debug adapter: run "AzureML Scoring: Start Scoring Server" first.');
    }
    const { command, args } = launcherCommand(this.extensionPath, python, 'adapter');
    return new vscode.DebugAdapterExecutable(command, args);
  }
}

export class DebugManager implements vscode.Disposable {
  private readonly sessions = new Map<string, vscode.DebugSession>();
  private readonly pending = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  /** The F5 session (launchSession) whose children the worker sessions are, while there is one. */
  parent: vscode.DebugSession | undefined;

  constructor(
    private readonly folder: () => vscode.WorkspaceFolder | undefined,
    private readonly log: (line: string) => void = () => undefined,
    private readonly script: () => string | null | undefined = () => undefined,
  ) {
    this.disposables.push(
      vscode.debug.onDidStartDebugSession((s) => {
        const key = s.configuration[KEY_FIELD] as string | undefined;
        if (key) {
          this.sessions.set(key, s);
          this.pending.delete(key);
        }
      }),
      vscode.debug.onDidTerminateDebugSession((s) => {
        const key = s.configuration[KEY_FIELD] as string | undefined;
        if (key && (this.sessions.get(key)?.id ?? s.id) === s.id) {
          this.sessions.delete(key);
          this.pending.delete(key);
        }
      }),
    );
  }

  debugType(): string {
    return chooseDebugType(vscode.extensions.all as readonly ExtensionLike[]);
  }

  isAttached(c: AttachConfiguration): boolean {
    const k = configKey(c);
    return this.sessions.has(k) || this.pending.has(k);
  }

  get activeCount(): number {
    return this.sessions.size;
  }

  /** Starts a session for each configuration not attached yet; returns how many were started. */
  async attach(configs: AttachConfiguration[]): Promise<number> {
    const type = this.debugType();
    let started = 0;
    for (const c of configs) {
      const key = configKey(c);
      if (this.sessions.has(key) || this.pending.has(key)) {
        continue;
      }
      this.pending.add(key);
      const cfg = toSessionConfig(c, type, this.script() ?? undefined);
      this.log(`Attaching debugger (${type}): ${key}`);
      try {
        // Under an F5 session, stopping a worker's session ends the parent (and the server) too.
        const options = this.parent ? { parentSession: this.parent, lifecycleManagedByParent: true } : undefined;
        const ok = await vscode.debug.startDebugging(this.folder(), cfg, options);
        if (ok) {
          started++;
        } else {
          this.pending.delete(key);
        }
      } catch (e) {
        this.pending.delete(key);
        throw e;
      }
    }
    return started;
  }

  async stopAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.pending.clear();
    for (const s of all) {
      await Promise.resolve(vscode.debug.stopDebugging(s)).catch(() => undefined);
    }
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
