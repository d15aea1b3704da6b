/**
 * The Problem behind a failed request: the daemon publishes a `run-failed` diagnostic at the
 * user's line of run() when a request fails (docs/daemon.md); the panel links to it.
 */
import * as vscode from 'vscode';

export interface RunFailure {
  message: string;
  file: string;
  /** 1-based, as tracebacks and the status bar count. */
  line: number;
}

export const RUN_FAILED_CODE = 'run-failed';

function codeOf(d: vscode.Diagnostic): string | undefined {
  const c = d.code;
  return typeof c === 'object' && c !== null ? String(c.value) : c === undefined ? undefined : String(c);
}

/** The current run() failure diagnostic, if the daemon published one. */
export function currentRunFailure(): RunFailure | undefined {
  for (const [uri, diags] of vscode.languages.getDiagnostics()) {
    const d = diags.find((x) => codeOf(x) === RUN_FAILED_CODE);
    if (d) {
      return { message: d.message, file: uri.fsPath, line: d.range.start.line + 1 };
    }
  }
  return undefined;
}

/**
 * The run() diagnostic of a failed answer: the daemon publishes it just after the answer, so
 * wait (bounded) for the next one; a failure that was already shown counts when none comes.
 */
export function awaitRunFailure(timeoutMs = 2000): Promise<RunFailure | undefined> {
  return new Promise((resolve) => {
    const finish = (f: RunFailure | undefined) => {
      clearTimeout(timer);
      sub.dispose();
      resolve(f);
    };
    const sub = vscode.languages.onDidChangeDiagnostics(() => {
      const f = currentRunFailure();
      if (f) {
        finish(f);
      }
    });
    const timer = setTimeout(() => finish(currentRunFailure()), timeoutMs);
  });
}
