/** The Testing view's cases (extension/src/testing) over a fake daemon and the fake Testing API. */
import { strict as assert } from 'assert';
import * as vscode from 'vscode';
import { CaseTests, CaseTestsDeps, CASE_FILES_GLOB } from '../../extension/src/testing/caseTests';
import { caseItemId, reportAll } from '../../extension/src/testing/caseResults';
import { registerCaseTests } from '../../extension/src/testing/register';
import { CaseInfo, CaseResult, DaemonConnection, RunCasesResult, ServerStatus } from '../../extension/src/protocol';
import { Controller } from '../../extension/src/scoringServer/controller';
import { ScoringWorkspace } from '../../extension/src/scoringWorkspace';
import * as fake from './fake/vscode';
import { until } from './until';

const SCORE = '/ws/app/score.py';
const OTHER = '/ws/other/score.py';
const CASES = '/ws/app/sample-requests';

function info(id: string, extra: Partial<CaseInfo> = {}): CaseInfo {
  return { id, name: id, file: `${CASES}/${id}.json`, line: 1, kind: 'body', method: 'POST', path: '/score', ...extra };
}

const WORLD_FAILED: CaseResult = {
  id: 'world',
  name: 'world',
  file: `${CASES}/world.json`,
  verdict: 'failed',
  message: 'the answer differs from world.expected.json in 1 place(s)',
  expected: '{\n  "message": "Hello, world!"\n}',
  actual: '{\n  "message": "Hi, world!"\n}',
  location: { file: `${CASES}/world.expected.json`, line: 1 },
  elapsedMs: 4,
  status: 200,
};

class FakeDaemon implements DaemonConnection {
  calls: { name: string; arg: any }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  listed: Record<string, CaseInfo[]> = { [SCORE]: [info('azure'), info('broken', { error: 'broken.json is not valid JSON' }), info('world')], [OTHER]: [] };
  results: CaseResult[] = [
    { id: 'azure', name: 'azure', file: `${CASES}/azure.json`, verdict: 'passed', message: '', elapsedMs: 3, status: 200 },
    { id: 'broken', name: 'broken', file: `${CASES}/broken.json`, verdict: 'error', message: 'broken.json is not valid JSON', location: { file: `${CASES}/broken.json`, line: 1 } },
    WORLD_FAILED,
  ];
  failRun: Error | undefined;
  serverError: RunCasesResult['serverError'];
  async command<T>(name: string, arg: any): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
    this.calls.push({ name, arg });
    if (name.endsWith('.listCases')) {
      const cases = this.listed[arg.entryScript] ?? [];
      return { entryScript: arg.entryScript, casesPath: cases.length ? CASES : null, cases } as T;
    }
    if (this.failRun) {
      throw this.failRun;
    }
    const ids: string[] = arg.ids;
    const result: RunCasesResult = { entryScript: arg.entryScript, casesPath: CASES, server: { source: 'started', url: 'http://127.0.0.1:4321', pid: 7 }, results: this.results.filter((r) => ids.includes(r.id)), ...(this.serverError ? { serverError: this.serverError } : {}) };
    return result as T;
  }
  runs(): any[] { // eslint-disable-line @typescript-eslint/no-explicit-any
    return this.calls.filter((c) => c.name.endsWith('.runCases')).map((c) => c.arg);
  }
}

const token = (cancelled = false) => ({ isCancellationRequested: cancelled, onCancellationRequested: () => new fake.Disposable() }) as unknown as vscode.CancellationToken;

describe('sample-request cases in the Testing view', () => {
  let daemon: FakeDaemon;
  let debugStatus: ServerStatus;
  let debugStarts: string[];
  let tests: CaseTests;

  const deps = (): CaseTestsDeps => ({
    daemons: { ensure: async () => daemon, current: () => daemon },
    findScripts: async () => [SCORE, OTHER],
    runArgs: (script) => ({ entryScript: script, modelDir: '/ws/app/model' }),
    debugServer: async (u) => {
      debugStarts.push(u.fsPath);
      return debugStatus;
    },
    log: () => undefined,
  });

  beforeEach(async () => {
    fake.reset();
    daemon = new FakeDaemon();
    debugStarts = [];
    debugStatus = { state: 'running', entryScript: SCORE, debug: true };
    tests = new CaseTests(deps());
    await tests.refresh();
  });
  afterEach(() => tests.dispose());

  const ctl = () => fake.testing.controllers[0];
  const item = (caseId: string) => ctl().items.get(SCORE).children.get(caseItemId(SCORE, caseId));
  const profile = (kind: fake.TestRunProfileKind) => ctl().profiles.find((p: { kind: fake.TestRunProfileKind }) => p.kind === kind);
  const lastRun = () => fake.testing.runs[fake.testing.runs.length - 1];
  const results = () => lastRun().calls.filter((c) => ['passed', 'failed', 'errored', 'skipped'].includes(c.kind));

  it('lists the cases of each scoring script that has some, at their files', () => {
    assert.deepEqual(
      daemon.calls.map((c) => c.arg.entryScript),
      [SCORE, OTHER],
    );
    assert.equal(ctl().items.size, 1, 'a script without cases gets no item');
    const root = ctl().items.get(SCORE);
    assert.equal(root.uri.fsPath, SCORE);
    assert.equal(root.children.size, 3);
    assert.equal(item('world').label, 'world');
    assert.equal(item('world').uri.fsPath, `${CASES}/world.json`);
    assert.equal(item('world').range.start.line, 0);
    assert.equal(item('world').description, 'POST /score');
    assert.equal(item('broken').error, 'broken.json is not valid JSON');
    assert.deepEqual(
      ctl().profiles.map((p: { label: string; kind: number; isDefault: boolean }) => [p.label, p.kind, p.isDefault]),
      [
        ['Run', fake.TestRunProfileKind.Run, true],
        ['Debug', fake.TestRunProfileKind.Debug, true],
      ],
    );
  });

  it('refreshes when a case file is created, changed or deleted', async () => {
    const watcher = fake.testing.watchers[0];
    assert.equal(watcher.glob, CASE_FILES_GLOB);
    daemon.listed[SCORE] = [info('azure')];
    const before = daemon.calls.length;
    watcher.create.fire(vscode.Uri.file(`${CASES}/azure.json`) as unknown as fake.Uri);
    watcher.delete.fire(vscode.Uri.file(`${CASES}/world.json`) as unknown as fake.Uri);
    await until(() => ctl().items.get(SCORE).children.size === 1);
    assert.equal(daemon.calls.length - before, 2, 'one refresh for the burst (two scripts listed)');
    await ctl().refreshHandler();
    assert.equal(daemon.calls.length - before, 4, 'the refresh button lists again');
  });

  it('runs all: passed, failed with its expected/actual diff at the expected file, errored', async () => {
    await profile(fake.TestRunProfileKind.Run).runHandler(new fake.TestRunRequest(), token());
    assert.deepEqual(daemon.runs(), [{ entryScript: SCORE, modelDir: '/ws/app/model', ids: ['azure', 'broken', 'world'] }]);
    assert.deepEqual(
      lastRun().calls.filter((c) => c.kind === 'started').map((c) => c.id),
      ['azure', 'broken', 'world'].map((i) => caseItemId(SCORE, i)),
    );
    assert.deepEqual(
      results().map((c) => [c.kind, c.id]),
      [
        ['passed', caseItemId(SCORE, 'azure')],
        ['errored', caseItemId(SCORE, 'broken')],
        ['failed', caseItemId(SCORE, 'world')],
      ],
    );
    const failed = results()[2];
    assert.equal(failed.message?.message, WORLD_FAILED.message);
    assert.equal(failed.message?.expectedOutput, WORLD_FAILED.expected);
    assert.equal(failed.message?.actualOutput, WORLD_FAILED.actual);
    assert.equal(failed.message?.location?.uri.fsPath, `${CASES}/world.expected.json`);
    assert.equal(failed.duration, 4);
    assert.equal(results()[0].duration, 3);
    assert.ok(lastRun().calls.some((c) => c.kind === 'output' && /a server started for this run .* at http:\/\/127\.0\.0\.1:4321\r\n$/.test(c.output ?? '')));
    assert.ok(lastRun().ended);
    assert.equal(debugStarts.length, 0, 'Run does not start the debugger');
  });

  it('runs one case, or a script less an excluded case', async () => {
    const run = profile(fake.TestRunProfileKind.Run).runHandler;
    await run(new fake.TestRunRequest([item('world')]), token());
    await run(new fake.TestRunRequest([ctl().items.get(SCORE)], [item('broken')]), token());
    assert.deepEqual(
      daemon.runs().map((a) => a.ids),
      [['world'], ['azure', 'world']],
    );
  });

  it('Debug starts the server under the debugger for the script, then runs', async () => {
    await profile(fake.TestRunProfileKind.Debug).runHandler(new fake.TestRunRequest([item('azure')]), token());
    assert.deepEqual(debugStarts, [SCORE]);
    assert.deepEqual(daemon.runs().map((a) => a.ids), [['azure']]);
    assert.equal(results()[0].kind, 'passed');
  });

  it('Debug with a server that does not start: each case errors with the reason, nothing is sent', async () => {
    debugStatus = { state: 'failed', error: 'init() failed: ValueError: boom (score.py:2)' };
    await profile(fake.TestRunProfileKind.Debug).runHandler(new fake.TestRunRequest([item('azure'), item('world')]), token());
    assert.deepEqual(daemon.runs(), []);
    assert.deepEqual(results().map((c) => c.kind), ['errored', 'errored']);
    assert.match(results()[0].message?.message ?? '', /did not start under the debugger: init\(\) failed: ValueError: boom/);
    assert.ok(lastRun().ended);
  });

  it('a daemon error errors the cases; a cancelled run skips them', async () => {
    daemon.failRun = new Error('The scoring server closed the connection');
    await profile(fake.TestRunProfileKind.Run).runHandler(new fake.TestRunRequest([item('azure')]), token());
    assert.deepEqual(results().map((c) => [c.kind, c.message?.message]), [['errored', 'The scoring server closed the connection']]);
    await profile(fake.TestRunProfileKind.Run).runHandler(new fake.TestRunRequest([item('azure')]), token(true));
    assert.deepEqual(results().map((c) => c.kind), ['skipped']);
  });

  it('a server that did not start for the run: its reason in the run output', async () => {
    daemon.serverError = { message: 'the server did not start: it exited with code 3\ninit() failed with ValueError: boom', location: { file: SCORE, line: 2 } };
    daemon.results = [{ id: 'azure', name: 'azure', file: `${CASES}/azure.json`, verdict: 'error', message: 'the server did not start', location: { file: SCORE, line: 2 } }];
    await profile(fake.TestRunProfileKind.Run).runHandler(new fake.TestRunRequest([item('azure')]), token());
    const output = lastRun().calls.filter((c) => c.kind === 'output').map((c) => c.output).join('');
    assert.match(output, /it exited with code 3\r\ninit\(\) failed with ValueError: boom\r\n$/);
    assert.equal(results()[0].kind, 'errored');
    assert.equal(results()[0].message?.location?.uri.fsPath, SCORE);
  });

  it('a case the daemon did not answer for is an error, not left running', () => {
    const run = (ctl().createTestRun(new fake.TestRunRequest()) as unknown) as vscode.TestRun;
    const items = new Map([['azure', item('azure')], ['world', item('world')]]);
    reportAll(run, items, { entryScript: SCORE, casesPath: CASES, results: [WORLD_FAILED] });
    assert.deepEqual(results().map((c) => [c.kind, c.id]), [['failed', caseItemId(SCORE, 'world')], ['errored', caseItemId(SCORE, 'azure')]]);
  });
});

describe('registerCaseTests', () => {
  beforeEach(() => fake.reset());

  it('creates the test controller only once the workspace has a scoring script', async () => {
    const found = new fake.EventEmitter<void>();
    const scoring = { hasScoringScript: false, onDidFind: found.event } as unknown as ScoringWorkspace;
    const daemons = { ensure: async () => undefined, current: () => undefined };
    const reg = registerCaseTests(daemons, {} as Controller, scoring, () => undefined);
    assert.equal(fake.testing.controllers.length, 0, 'a quiet workspace gets no controller');
    found.fire();
    found.fire();
    assert.equal(fake.testing.controllers.length, 1);
    reg.dispose();
    assert.ok(fake.testing.controllers[0].disposed);
    assert.ok(fake.testing.watchers[0].disposed);
  });
});
