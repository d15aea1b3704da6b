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
import { DAEMON_MODULE, PYTHON_EXTENSION_ID } from './constants';

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

export interface ImportCheck {
  ok: boolean;
  detail?: string;
}

/** Runs `<python> -c "import azmlinfsrv.daemon"` (DAEMON_MODULE). */
export function checkDaemonImportable(python: string, timeoutMs = 30000): Promise<ImportCheck> {
  return new Promise((resolve) => {
    cp.execFile(python, ['-c', `import ${DAEMON_MODULE}`], { timeout: timeoutMs }, (err, _stdout, stderr) => {
      if (!err) {
        resolve({ ok: true });
        return;
      }
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        resolve({ ok: false, detail: `${python} was not found` });
        return;
      }
      const lines = String(stderr).trim().split(/\r?\n/);
      resolve({ ok: false, detail: lines[lines.length - 1] || err.message });
    });
  });
}

/** True when the folder's pyproject.toml is this project's (installable in editable mode). */
export function isAzmlinfsrvProject(pyprojectText: string): boolean {
  const project = /^\[project\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(pyprojectText);
  const section = project ? project[1] : '';
  return /^\s*name\s*=\s*["']azmlinfsrv["']\s*$/m.test(section);
}

export interface InstallCommand {
  args: string[];
  display: string;
}

/** The pip command that makes `azmlinfsrv.daemon` importable in `python`. */
export function installCommand(
  python: string,
  workspaceFolders: string[],
  readFile: (p: string) => string | undefined = (p) => {
    try {
      return fs.readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  },
): InstallCommand {
  let target = 'azmlinfsrv[daemon]';
  let editable = false;
  for (const folder of workspaceFolders) {
    const text = readFile(path.join(folder, 'pyproject.toml'));
    if (text && isAzmlinfsrvProject(text)) {
      target = `${folder}[daemon]`;
      editable = true;
      break;
    }
  }
  const args = ['-m', 'pip', 'install', ...(editable ? ['-e'] : []), target];
  return { args, display: [python, ...args].map(shellQuote).join(' ') };
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
