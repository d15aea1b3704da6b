/** The notification of a failed server, with the way to its logs and to the failing line. */
import * as vscode from 'vscode';
import { COMMANDS } from '../common/constants';
import { logError, LogView } from '../common/logging';
import { ServerStatus } from '../protocol';

export const SHOW_LOGS = 'Show Logs';
export const GO_TO_ERROR = 'Go to Error';

/** Opens `file` at a 1-based `line`, as Python tracebacks count, and shows the problem there. */
export async function goTo(file: string, line: number): Promise<void> {
  const l = Math.max(0, line - 1);
  await vscode.window.showTextDocument(vscode.Uri.file(file), { selection: new vscode.Range(l, 0, l, 0) });
  // The diagnostic at that line, in its inline peek (the next problem from the line's start).
  await vscode.commands.executeCommand('editor.action.marker.next');
}

export async function notifyFailure(s: ServerStatus, logs: LogView): Promise<void> {
  const buttons = s.errorLocation ? [SHOW_LOGS, GO_TO_ERROR] : [SHOW_LOGS];
  const text = `Scoring server failed: ${s.error || 'see the logs'}`;
  logError(logs, text);
  const choice = await vscode.window.showErrorMessage(text, ...buttons);
  if (choice === SHOW_LOGS) {
    // The server's own output: its traceback is there.
    await vscode.commands.executeCommand(COMMANDS.showLogs);
  } else if (choice === GO_TO_ERROR && s.errorLocation) {
    await goTo(s.errorLocation.file, s.errorLocation.line);
  }
}
