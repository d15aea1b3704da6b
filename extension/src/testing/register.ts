/**
 * Puts the sample-request cases in the Testing view once the workspace is known to hold a
 * scoring script (a workspace without one stays quiet: no test controller, no daemon).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { readSettings } from '../common/settings';
import { findScoringScripts } from '../entryScript';
import { RunCasesArgs } from '../protocol';
import { Controller } from '../scoringServer/controller';
import { startArgs } from '../scoringServer/lifecycle';
import { DaemonSource } from '../scoringServer/workerAttach';
import { ScoringWorkspace, workspaceScan } from '../scoringWorkspace';
import { CaseTests } from './caseTests';

/** The workspace's scoring scripts, and the configured entry script when it is outside them. */
async function scoringScripts(): Promise<string[]> {
  const found = await findScoringScripts(workspaceScan);
  const setting = readSettings().entryScript;
  return setting && !found.some((f) => path.resolve(f) === path.resolve(setting)) ? [...found, setting] : found;
}

/** startServer's arguments for the script, as runCases takes them (no port: a run picks a free one). */
function runArgs(script: string): RunCasesArgs {
  const { entryScript, modelDir, workerCount, env } = startArgs(script, false);
  return { entryScript, ...(modelDir ? { modelDir } : {}), ...(workerCount ? { workerCount } : {}), ...(env ? { env } : {}) };
}

export function registerCaseTests(daemons: DaemonSource, controller: Controller, scoring: ScoringWorkspace, log: (line: string) => void): vscode.Disposable {
  let tests: CaseTests | undefined;
  const create = () => {
    if (!tests) {
      tests = new CaseTests({ daemons, findScripts: scoringScripts, runArgs, debugServer: (u) => controller.debugServer(u), log });
      void tests.refresh();
    }
  };
  const found = scoring.onDidFind(create);
  if (scoring.hasScoringScript) {
    create();
  }
  return new vscode.Disposable(() => {
    found.dispose();
    tests?.dispose();
  });
}
