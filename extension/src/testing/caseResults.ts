/**
 * The daemon's case results as VS Code test results: passed, failed (with an expected/actual
 * diff when there is one, at the case file) or errored. Kept apart from the controller so the
 * mapping is tested on its own.
 */
import * as vscode from 'vscode';
import { CaseInfo, CaseLocation, CaseResult, RunCasesResult } from '../protocol';

/** The id of a case's test item: unique across the workspace's scoring scripts. */
export function caseItemId(script: string, caseId: string): string {
  return `${script}#${caseId}`;
}

/** `POST /score`, or why the case file cannot be read. */
export function caseDescription(c: CaseInfo): string {
  return c.error ? 'cannot be read' : `${c.method} ${c.path}`;
}

function at(location: CaseLocation | undefined, fallback: string): vscode.Location {
  const file = location?.file ?? fallback;
  return new vscode.Location(vscode.Uri.file(file), new vscode.Position(Math.max((location?.line ?? 1) - 1, 0), 0));
}

/** The failure's message: a diff when the daemon sent expected and actual text. */
export function failureMessage(r: CaseResult): vscode.TestMessage {
  const text = r.message || `${r.verdict}`;
  const message = r.expected !== undefined && r.actual !== undefined ? vscode.TestMessage.diff(text, r.expected, r.actual) : new vscode.TestMessage(text);
  message.location = at(r.location, r.file);
  return message;
}

/** Reports one case's result on the run. */
export function reportResult(run: vscode.TestRun, item: vscode.TestItem, r: CaseResult): void {
  if (r.verdict === 'passed') {
    run.passed(item, r.elapsedMs);
  } else if (r.verdict === 'failed') {
    run.failed(item, failureMessage(r), r.elapsedMs);
  } else {
    run.errored(item, failureMessage(r), r.elapsedMs);
  }
}

/** One line for the run's output: which server answered. */
export function serverLine(result: RunCasesResult): string {
  const s = result.server;
  if (!s) {
    return 'no case to run';
  }
  const how = s.source === 'running' ? 'the running scoring server' : 'a server started for this run (stopped again)';
  return `${result.entryScript}: ${how} at ${s.url}`;
}

/** Reports every result on the items it names; an item the daemon did not answer for errors. */
export function reportAll(run: vscode.TestRun, items: Map<string, vscode.TestItem>, result: RunCasesResult): void {
  const answered = new Set<string>();
  for (const r of result.results) {
    const item = items.get(r.id);
    if (item) {
      reportResult(run, item, r);
      answered.add(r.id);
    }
  }
  for (const [id, item] of items) {
    if (!answered.has(id)) {
      run.errored(item, new vscode.TestMessage(`The daemon returned no result for case ${id}.`));
    }
  }
}
