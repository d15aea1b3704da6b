/** The extension's settings (`azmlinfsrv.*` in package.json), read and expanded in one place. */
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { SECTION } from './constants';

export interface Settings {
  pythonPath: string;
  entryScript: string;
  modelDir: string;
  port: number | undefined;
  workerCount: number | undefined;
  env: Record<string, string>;
  reloadOnSave: boolean;
  codeLens: boolean;
}

/** Expands ~, ${workspaceFolder}, ${userHome} and ${env:NAME}; relative paths are taken from the workspace folder. */
export function expandPath(value: string, workspaceFolder: string | undefined): string {
  if (!value) {
    return value;
  }
  let v = value
    .replace(/\$\{workspaceFolder\}/g, workspaceFolder ?? '')
    .replace(/\$\{userHome\}/g, os.homedir())
    .replace(/\$\{env:([^}]+)\}/g, (_m, name: string) => process.env[name] ?? '');
  if (v === '~' || v.startsWith('~/')) {
    v = path.join(os.homedir(), v.slice(1));
  }
  if (workspaceFolder && !path.isAbsolute(v) && (v.includes('/') || v.includes('\\'))) {
    v = path.join(workspaceFolder, v);
  }
  return v;
}

export function firstWorkspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

export function readSettings(resource?: vscode.Uri): Settings {
  const c = vscode.workspace.getConfiguration(SECTION, resource);
  const folder = (resource && vscode.workspace.getWorkspaceFolder(resource)?.uri.fsPath) ?? firstWorkspaceFolder();
  const port = c.get<number | null>('port', null);
  const workers = c.get<number | null>('workerCount', null);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.get<Record<string, unknown>>('env', {}) ?? {})) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      env[k] = String(v);
    }
  }
  return {
    pythonPath: expandPath(c.get<string>('pythonPath', '') ?? '', folder),
    entryScript: expandPath(c.get<string>('entryScript', '') ?? '', folder),
    modelDir: expandPath(c.get<string>('modelDir', '') ?? '', folder),
    port: typeof port === 'number' && port > 0 ? port : undefined,
    workerCount: typeof workers === 'number' && workers > 0 ? workers : undefined,
    env,
    reloadOnSave: c.get<boolean>('reloadOnSave', true) ?? true,
    codeLens: c.get<boolean>('codeLens', true) ?? true,
  };
}
