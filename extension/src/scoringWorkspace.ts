/**
 * Whether this workspace has a scoring script (entryScript.ts says what one is). VS Code can
 * only activate on file names, so the extension wakes up in a Python workspace and does
 * nothing visible (no daemon, so no diagnostics; no CodeLens; no prompt) until a scoring
 * script is found here: at activation, when one is saved, or when the setting names one.
 */
import * as fs from 'fs';
import * as vscode from 'vscode';
import { CONTEXT_KEYS, SECTION } from './common/constants';
import { readSettings } from './common/settings';
import { EXCLUDE_GLOB, findScoringScripts, isScoringScript, PYTHON_GLOB, SCAN_LIMITS, ScanDeps } from './entryScript';

async function readSmall(file: string): Promise<string | undefined> {
  try {
    const st = await fs.promises.stat(file);
    return st.isFile() && st.size <= SCAN_LIMITS.bytes ? await fs.promises.readFile(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** The workspace's .py files read from disk (files.exclude and our EXCLUDE_GLOB respected). */
export const workspaceScan: ScanDeps = {
  listPython: async () => (await vscode.workspace.findFiles(PYTHON_GLOB, EXCLUDE_GLOB, SCAN_LIMITS.files)).map((u) => u.fsPath),
  read: readSmall,
};

function isScoringDocument(doc: vscode.TextDocument | undefined): boolean {
  return !!doc && doc.uri.scheme === 'file' && isScoringScript(doc.uri.fsPath, doc.getText(), readSettings(doc.uri).entryScript);
}

export class ScoringWorkspace implements vscode.Disposable {
  private foundValue = false;
  private readonly found = new vscode.EventEmitter<void>();
  /** Fires once, when the first scoring script of the workspace is known. */
  readonly onDidFind = this.found.event;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly scan: ScanDeps = workspaceScan) {
    this.disposables = [
      this.found,
      vscode.window.onDidChangeActiveTextEditor((e) => this.showActive(e?.document)),
      vscode.workspace.onDidSaveTextDocument((doc) => this.saved(doc)),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(`${SECTION}.entryScript`) && void this.detect()),
    ];
  }

  get hasScoringScript(): boolean {
    return this.foundValue;
  }

  /** Looks for a scoring script: the configured entry script on disk, else the workspace scan. */
  async detect(): Promise<boolean> {
    this.showActive(vscode.window.activeTextEditor?.document);
    if (!this.foundValue) {
      const setting = readSettings().entryScript;
      const configured = !!setting && (await readSmall(setting)) !== undefined;
      if (configured || (await findScoringScripts(this.scan, true)).length > 0) {
        this.markFound();
      } else {
        void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.hasScoringScript, false);
      }
    }
    return this.foundValue;
  }

  private saved(doc: vscode.TextDocument): void {
    const scoring = isScoringDocument(doc);
    if (doc.uri.toString() === vscode.window.activeTextEditor?.document.uri.toString()) {
      void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.isScoringScript, scoring);
    }
    if (scoring && !this.foundValue) {
      this.markFound();
    }
  }

  private showActive(doc: vscode.TextDocument | undefined): void {
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.isScoringScript, isScoringDocument(doc));
  }

  private markFound(): void {
    this.foundValue = true;
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.hasScoringScript, true);
    this.found.fire();
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
