/**
 * Which Python runs the daemon (and, through it, the scoring server).
 *
 * Order: the explicit `azmlinfsrv.pythonPath` setting (a deliberate override, as
 * black-formatter's `interpreter` setting), then the Python extension's active environment,
 * then a `.venv` in the workspace, then `python3`.
 */
import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { PythonExtension } from '@vscode/python-extension';
import { PYTHON_EXTENSION_ID } from './constants';

export type InterpreterSource = 'setting' | 'python-extension' | 'workspace-venv' | 'default';

export interface Interpreter {
  path: string;
  source: InterpreterSource;
}

export interface InterpreterDeps {
  /** The `azmlinfsrv.pythonPath` setting, already expanded ('' when unset). */
  settingPath: string;
  /** Active interpreter from the Python extension, undefined when it is absent or has none. */
  pythonExtension?: () => Promise<string | undefined>;
  workspaceFolders: string[];
  exists?: (p: string) => boolean;
  platform?: NodeJS.Platform;
}

export function venvPython(folder: string, platform: NodeJS.Platform = process.platform): string[] {
  return platform === 'win32'
    ? [path.join(folder, '.venv', 'Scripts', 'python.exe'), path.join(folder, 'venv', 'Scripts', 'python.exe')]
    : [path.join(folder, '.venv', 'bin', 'python'), path.join(folder, 'venv', 'bin', 'python')];
}

export async function resolveInterpreter(deps: InterpreterDeps): Promise<Interpreter> {
  const exists = deps.exists ?? ((p: string) => fs.existsSync(p));
  const platform = deps.platform ?? process.platform;
  if (deps.settingPath) {
    return { path: deps.settingPath, source: 'setting' };
  }
  if (deps.pythonExtension) {
    try {
      const p = await deps.pythonExtension();
      if (p) {
        return { path: p, source: 'python-extension' };
      }
    } catch {
      // The Python extension failed to answer: fall through to the local discovery.
    }
  }
  for (const folder of deps.workspaceFolders) {
    for (const candidate of venvPython(folder, platform)) {
      if (exists(candidate)) {
        return { path: candidate, source: 'workspace-venv' };
      }
    }
  }
  return { path: platform === 'win32' ? 'python' : 'python3', source: 'default' };
}

/** True when the Python extension is installed (its interpreter selection is then followed). */
export function hasPythonExtension(): boolean {
  return !!vscode.extensions.getExtension(PYTHON_EXTENSION_ID);
}

/** The interpreter the Python extension has selected for `resource`, undefined without that extension. */
export async function pythonFromExtension(resource?: vscode.Uri): Promise<string | undefined> {
  if (!hasPythonExtension()) {
    return undefined;
  }
  const api = await PythonExtension.api();
  const active = api.environments.getActiveEnvironmentPath(resource);
  const env = await api.environments.resolveEnvironment(active);
  return env?.executable.uri?.fsPath ?? active.path;
}

export function describeSource(source: InterpreterSource): string {
  switch (source) {
    case 'setting':
      return 'from the azmlinfsrv.pythonPath setting';
    case 'python-extension':
      return 'selected in the Python extension';
    case 'workspace-venv':
      return 'the workspace .venv';
    default:
      return 'the default python3 on PATH';
  }
}

/** The oldest Python the daemon and the server run on (pyproject's requires-python). */
export const MIN_PYTHON: [number, number] = [3, 10];

export interface InterpreterCheck {
  ok: boolean;
  detail?: string;
}

/** `<python> launch.py ROLE`: the launcher the .vsix carries (bundled/tool/launch.py, built by bundled/build.py). */
export function launcherCommand(extensionPath: string, python: string, role: 'daemon' | 'adapter'): { command: string; args: string[] } {
  return { command: python, args: [path.join(extensionPath, 'bundled', 'tool', 'launch.py'), role] };
}

/** `<python> launch.py daemon`: azmlinfsrv.daemon with the bundled libraries. */
export function daemonCommand(extensionPath: string, python: string): { command: string; args: string[] } {
  return launcherCommand(extensionPath, python, 'daemon');
}

/** Can `python` run the daemon? It must exist and be Python 3.10 or newer; the rest comes with the extension. */
export function checkInterpreter(python: string, timeoutMs = 30000): Promise<InterpreterCheck> {
  const probe = 'import sys; print("%d.%d" % sys.version_info[:2])';
  return new Promise((resolve) => {
    cp.execFile(python, ['-c', probe], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const lines = String(stderr).trim().split(/\r?\n/);
        resolve({ ok: false, detail: code === 'ENOENT' ? `${python} was not found` : lines[lines.length - 1] || err.message });
        return;
      }
      const version = /^(\d+)\.(\d+)/.exec(String(stdout).trim());
      const [major, minor] = version ? [Number(version[1]), Number(version[2])] : [0, 0];
      if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
        const found = version ? `Python ${major}.${minor}` : `not a Python it could ask for its version`;
        resolve({ ok: false, detail: `${python} is ${found}; azmlinfsrv needs Python ${MIN_PYTHON.join('.')} or newer` });
        return;
      }
      resolve({ ok: true });
    });
  });
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
