/** Which score.py a command serves, asked of VS Code: the argument, the editor, the setting, a pick. */
import * as path from 'path';
import * as vscode from 'vscode';
import { readSettings } from '../common/settings';
import { findScoringScripts, resolveEntryScript } from '../entryScript';
import { workspaceScan } from '../scoringWorkspace';

async function pickOne(candidates: string[]): Promise<string | undefined> {
  const items = candidates.map((c) => ({ label: path.basename(c), description: vscode.workspace.asRelativePath(c), file: c }));
  const picked = await vscode.window.showQuickPick(items, { placeHolder: 'Which entry script should the scoring server run?' });
  return picked?.file;
}

export async function pickEntryScript(uri?: vscode.Uri): Promise<string | undefined> {
  const editor = vscode.window.activeTextEditor;
  const doc = editor?.document;
  return resolveEntryScript({
    explicit: uri?.fsPath,
    active: doc && doc.uri.scheme === 'file' ? { fileName: doc.uri.fsPath, text: doc.getText() } : undefined,
    setting: readSettings(uri ?? doc?.uri).entryScript,
    findCandidates: () => findScoringScripts(workspaceScan),
    pick: pickOne,
  });
}
