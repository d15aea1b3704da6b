/**
 * The Testing view: each scoring script's sample-request cases (the ones `azmlinfsrv test`
 * runs) as tests. The daemon lists and runs them (listCases, runCases: against the running
 * server for that script, else one it starts for the run); "Debug" starts the server under
 * the debugger first, through the same path as "Debug Scoring Server", so a breakpoint in
 * run() stops the case. Case files are watched: adding or editing one refreshes the list.
 */
import * as vscode from 'vscode';
import { errorText } from '../common/logging';
import { CaseInfo, DaemonCommands, DaemonConnection, ListCasesResult, RunCasesArgs, RunCasesResult, ServerStatus } from '../protocol';
import { DaemonSource } from '../scoringServer/workerAttach';
import { caseDescription, caseItemId, reportAll, serverLine } from './caseResults';

export const CONTROLLER_ID = 'azmlinfsrv.cases';
export const CONTROLLER_LABEL = 'AzureML Scoring: sample requests';
/** The case files azmlinfsrv.cases reads by default (docs/validation.md). */
export const CASE_FILES_GLOB = '**/{sample-requests/*.json,sample-request.json}';
const REFRESH_DELAY_MS = 300;

export interface CaseTestsDeps {
  daemons: DaemonSource;
  /** The workspace's scoring scripts (absolute paths). */
  findScripts(): Promise<string[]>;
  /** runCases' arguments for a server started for the run: the script's model dir, workers, env. */
  runArgs(script: string): RunCasesArgs;
  /** Starts the server for `script` under the debugger (or re-attaches); its status after. */
  debugServer(script: vscode.Uri): Promise<ServerStatus | undefined>;
  log(line: string): void;
}

interface CaseRef {
  script: string;
  caseId: string;
}

export class CaseTests implements vscode.Disposable {
  readonly controller: vscode.TestController;
  private refs = new Map<string, CaseRef>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: CaseTestsDeps) {
    const ctl = vscode.tests.createTestController(CONTROLLER_ID, CONTROLLER_LABEL);
    this.controller = ctl;
    ctl.refreshHandler = () => this.refresh();
    ctl.createRunProfile('Run', vscode.TestRunProfileKind.Run, (r, t) => this.run(r, t, false), true);
    ctl.createRunProfile('Debug', vscode.TestRunProfileKind.Debug, (r, t) => this.run(r, t, true), true);
    const watcher = vscode.workspace.createFileSystemWatcher(CASE_FILES_GLOB);
    const later = () => this.refreshSoon();
    this.disposables.push(ctl, watcher, watcher.onDidCreate(later), watcher.onDidChange(later), watcher.onDidDelete(later));
  }

  /** Refreshes once a burst of file events is over. */
  refreshSoon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), REFRESH_DELAY_MS);
  }

  /** Lists the cases of every scoring script that has some (needs the daemon; never prompts). */
  async refresh(): Promise<void> {
    const daemon = await this.deps.daemons.ensure(false);
    if (!daemon) {
      return;
    }
    const roots: vscode.TestItem[] = [];
    const refs = new Map<string, CaseRef>(); // swapped in at the end: a run meanwhile sees the old list
    for (const script of await this.deps.findScripts()) {
      try {
        const listed = await daemon.command<ListCasesResult>(DaemonCommands.listCases, { entryScript: script });
        if (listed.cases.length) {
          roots.push(this.scriptItem(script, listed.cases, refs));
        }
      } catch (e) {
        this.deps.log(`Listing the cases of ${script} failed: ${errorText(e)}`);
      }
    }
    this.refs = refs;
    this.controller.items.replace(roots);
  }

  private scriptItem(script: string, cases: CaseInfo[], refs: Map<string, CaseRef>): vscode.TestItem {
    const root = this.controller.createTestItem(script, vscode.workspace.asRelativePath(script), vscode.Uri.file(script));
    for (const c of cases) {
      const id = caseItemId(script, c.id);
      const item = this.controller.createTestItem(id, c.name, vscode.Uri.file(c.file));
      item.range = new vscode.Range(c.line - 1, 0, c.line - 1, 0);
      item.description = caseDescription(c);
      if (c.error) {
        item.error = c.error;
      }
      refs.set(id, { script, caseId: c.id });
      root.children.add(item);
    }
    return root;
  }

  /** The cases a request asks for, by script: included items (all by default), less excluded ones. */
  private selected(request: vscode.TestRunRequest): Map<string, Map<string, vscode.TestItem>> {
    const excluded = new Set((request.exclude ?? []).map((i) => i.id));
    const leaves: vscode.TestItem[] = [];
    const add = (item: vscode.TestItem) => {
      if (excluded.has(item.id)) {
        return;
      }
      if (this.refs.has(item.id)) {
        leaves.push(item);
      }
      item.children.forEach(add);
    };
    if (request.include) {
      request.include.forEach(add);
    } else {
      this.controller.items.forEach(add);
    }
    const byScript = new Map<string, Map<string, vscode.TestItem>>();
    for (const item of leaves) {
      const ref = this.refs.get(item.id) as CaseRef;
      const items = byScript.get(ref.script) ?? new Map<string, vscode.TestItem>();
      items.set(ref.caseId, item);
      byScript.set(ref.script, items);
    }
    return byScript;
  }

  async run(request: vscode.TestRunRequest, token: vscode.CancellationToken, debug: boolean): Promise<void> {
    const run = this.controller.createTestRun(request);
    try {
      for (const [script, items] of this.selected(request)) {
        if (token.isCancellationRequested) {
          items.forEach((item) => run.skipped(item));
          continue;
        }
        items.forEach((item) => run.started(item));
        try {
          const result = await this.runScript(script, [...items.keys()], debug);
          run.appendOutput(`${serverLine(result)}\r\n`);
          if (result.serverError) {
            run.appendOutput(`${result.serverError.message.replace(/\r?\n/g, '\r\n')}\r\n`);
          }
          reportAll(run, items, result);
        } catch (e) {
          items.forEach((item) => run.errored(item, new vscode.TestMessage(errorText(e))));
        }
      }
    } finally {
      run.end();
    }
  }

  private async runScript(script: string, ids: string[], debug: boolean): Promise<RunCasesResult> {
    const daemon = await this.daemonForRun(script, debug);
    return daemon.command<RunCasesResult>(DaemonCommands.runCases, { ...this.deps.runArgs(script), ids });
  }

  /** The daemon; for Debug, with the script's server running under the debugger (started if needed). */
  private async daemonForRun(script: string, debug: boolean): Promise<DaemonConnection> {
    if (debug) {
      const status = await this.deps.debugServer(vscode.Uri.file(script));
      if (status?.state !== 'running') {
        throw new Error(`The scoring server did not start under the debugger${status?.error ? `: ${status.error}` : ''}.`);
      }
    }
    const daemon = await this.deps.daemons.ensure(true);
    if (!daemon) {
      throw new Error('The azmlinfsrv daemon is not available (see the notification).');
    }
    return daemon;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.disposables.forEach((d) => d.dispose());
  }
}
