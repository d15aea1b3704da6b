/**
 * "Send Sample Request" and "Debug" above `def init(` and `def run(` of an entry script, and
 * "Start" above the first of them while no server runs.
 */
import * as vscode from 'vscode';
import { COMMANDS } from './common/constants';
import { isScoringScript } from './entryScript';
import { ServerState } from './protocol';

const DEF = /^(?:async\s+)?def\s+(init|run)\s*\(/;

export function entryPointLines(text: string): { name: string; line: number }[] {
  const out: { name: string; line: number }[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    const m = DEF.exec(l);
    if (m) {
      out.push({ name: m[1], line: i });
    }
  });
  return out;
}

export class ScoreCodeLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(
    private readonly enabled: () => boolean,
    /** The azmlinfsrv.entryScript setting for a file: that script gets lenses whatever it defines. */
    private readonly entryScriptSetting: (uri: vscode.Uri) => string = () => '',
    /** The server's state: "Start" is offered while it is stopped or failed (never when not given). */
    private readonly serverState?: () => ServerState,
  ) {}

  refresh(): void {
    this.changed.fire();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.enabled()) {
      return [];
    }
    const text = doc.getText();
    if (!isScoringScript(doc.uri.fsPath, text, this.entryScriptSetting(doc.uri))) {
      return [];
    }
    const lenses: vscode.CodeLens[] = [];
    const state = this.serverState?.();
    const startable = state === 'stopped' || state === 'failed';
    for (const [i, { line }] of entryPointLines(text).entries()) {
      const range = new vscode.Range(line, 0, line, 0);
      if (startable && i === 0) {
        lenses.push(new vscode.CodeLens(range, { title: '$(play) Start', command: COMMANDS.start, arguments: [doc.uri] }));
      }
      lenses.push(
        new vscode.CodeLens(range, { title: '$(send) Send Sample Request', command: COMMANDS.sendRequest, arguments: [doc.uri] }),
        new vscode.CodeLens(range, { title: '$(debug-alt) Debug', command: COMMANDS.debug, arguments: [doc.uri] }),
      );
    }
    return lenses;
  }
}
