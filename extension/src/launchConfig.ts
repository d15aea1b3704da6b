/**
 * The `"type": "azmlinfsrv", "request": "launch"` debug configuration, as the Python Debugger
 * does it for `debugpy`: F5 in a folder with a score.py and no launch.json resolves an empty
 * configuration to one for the active (or only) scoring script; "create a launch.json file"
 * offers one per scoring script of the folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { findScoringScripts } from './entryScript';
import { StartServerArgs } from './protocol';
import { pickEntryScript } from './scoringServer/entryScriptPick';
import { workspaceScan } from './scoringWorkspace';

export const LAUNCH_TYPE = 'azmlinfsrv';

export interface LaunchConfiguration extends vscode.DebugConfiguration {
  entryScript?: string;
  modelDir?: string;
  port?: number;
  env?: Record<string, string>;
}

/** `${workspaceFolder}/rel` for a script inside `folder`, else its absolute path. */
export function folderRelative(script: string, folder: string | undefined): string {
  if (folder) {
    const rel = path.relative(folder, script);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
      return '${workspaceFolder}/' + rel.split(path.sep).join('/');
    }
  }
  return script;
}

export function launchConfigFor(script: string, folder?: string): LaunchConfiguration {
  return { type: LAUNCH_TYPE, request: 'launch', name: `AzureML Scoring: ${path.basename(script)}`, entryScript: folderRelative(script, folder) };
}

/** F5 with no launch.json hands an empty configuration (or one with only our type) to resolve. */
export function isEmptyConfig(c: vscode.DebugConfiguration): boolean {
  return !c.request && !c.name && (!c.type || c.type === LAUNCH_TYPE);
}

/** The startServer arguments a launch configuration asks for (settings fill in the rest). */
export function launchArgs(c: LaunchConfiguration): Partial<StartServerArgs> {
  return {
    ...(c.modelDir ? { modelDir: c.modelDir } : {}),
    ...(typeof c.port === 'number' ? { port: c.port } : {}),
    ...(c.env && typeof c.env === 'object' ? { env: c.env } : {}),
  };
}

/** Problems of a configuration VS Code cannot know from the schema (the script must exist). */
export function configProblem(c: LaunchConfiguration, exists: (p: string) => boolean): string | undefined {
  if (!c.entryScript) {
    return 'no scoring script: set "entryScript" to your score.py';
  }
  if (!exists(c.entryScript)) {
    return `entryScript ${c.entryScript} does not exist`;
  }
  if (c.port !== undefined && (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535)) {
    return `port ${String(c.port)} is not a TCP port (1-65535)`;
  }
  return undefined;
}

export class LaunchConfigProvider implements vscode.DebugConfigurationProvider {
  /** "create a launch.json file": one configuration per scoring script of the folder. */
  async provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): Promise<vscode.DebugConfiguration[]> {
    const scripts = (await findScoringScripts(workspaceScan)).filter((s) => !folder || !path.relative(folder.uri.fsPath, s).startsWith('..'));
    const configs = scripts.map((s) => launchConfigFor(s, folder?.uri.fsPath));
    return configs.length ? configs : [launchConfigFor(path.join(folder?.uri.fsPath ?? '', 'score.py'), folder?.uri.fsPath)];
  }

  /** F5 without launch.json: the active or only scoring script (a pick when there are several). */
  async resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    if (!isEmptyConfig(config)) {
      return config;
    }
    const script = await pickEntryScript();
    if (!script) {
      void vscode.window.showWarningMessage('AzureML Scoring: no scoring script (a .py with top-level init() and run()) to debug.');
      return undefined;
    }
    return launchConfigFor(script, folder?.uri.fsPath);
  }

  /** After ${workspaceFolder} is substituted: a missing script is said plainly, before anything starts. */
  resolveDebugConfigurationWithSubstitutedVariables(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    const problem = configProblem(config as LaunchConfiguration, (p) => fs.existsSync(p));
    if (problem) {
      void vscode.window.showErrorMessage(`AzureML Scoring: cannot start "${config.name}": ${problem}.`);
      return undefined;
    }
    return config;
  }
}
