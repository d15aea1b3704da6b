// Issue 12: sample requests as tests in VS Code's Testing view. A workspace with score.py and
// sample-requests/ holding one case that passes and one whose expected answer differs: the Testing
// view lists both, "Run All Tests" shows one passed and one failed, and the failure's peek shows
// the expected and actual answers side by side. No server was running: the daemon starts one for
// the run and stops it again. Then "Debug Test" on a case with a breakpoint in run(): the server
// starts under the debugger and the debugger stops there; Continue, and the case passes.
'use strict';

const SCORE_PY = [
  'import json',
  '',
  '',
  'def init():',
  '    pass',
  '',
  '',
  'def run(raw_data):',
  '    name = json.loads(raw_data).get("name", "world")', // line 9: breakpoint
  '    return {"message": f"Hello, {name}!"}',
  '',
].join('\n');

const BREAK_LINE = 9;

const FILES = {
  'score.py': SCORE_PY,
  'sample-requests/world.json': '{"name": "world"}\n',
  'sample-requests/world.expected.json': '{"message": "Hello, world!"}\n',
  'sample-requests/azure.json': '{"name": "Azure"}\n',
  'sample-requests/azure.expected.json': '{"message": "Good day, Azure!"}\n',
};

/** The Test Explorer's rows, each as {text, passed, failed}. */
async function explorerRows(s) {
  return s.page.locator('.test-explorer .monaco-list-row').evaluateAll((rows) =>
    rows.map((r) => ({
      text: (r.innerText || '').replace(/\s+/g, ' ').trim(),
      passed: !!r.querySelector('.codicon-testing-passed-icon'),
      failed: !!r.querySelector('.codicon-testing-failed-icon'),
    })),
  );
}

// A row reads "<label><description>", e.g. "azurePOST /score: 4.0ms".
const row = (rows, name) => rows.find((r) => new RegExp(`^${name}(?![a-z0-9_-])`).test(r.text));

async function showCases(t, s) {
  await s.openFile('score.py', 'def init');
  const activated = await s.waitForStatus(/Scoring: (stopped|running|starting)/);
  t.check('extension activated: status bar item shows the server state', activated.ok, JSON.stringify(activated.t));
  await s.runCommand('View: Show Testing');
  const root = await t.pollUntil(async () => {
    const rows = await explorerRows(s);
    return { ok: rows.some((r) => /score\.py/.test(r.text)), rows };
  }, 60000);
  t.check('the Testing view lists score.py', root.ok, JSON.stringify(root.rows));
  const listed = await t.pollUntil(async () => {
    let rows = await explorerRows(s);
    if (!row(rows, 'azure')) {
      await s.page.locator('.test-explorer .monaco-list-row', { hasText: 'score.py' }).first().click();
      await s.page.keyboard.press('ArrowRight'); // expand
      rows = await explorerRows(s);
    }
    return { ok: !!row(rows, 'azure') && !!row(rows, 'world'), rows };
  }, 20000);
  t.check('the Testing view lists its cases azure and world', listed.ok, JSON.stringify(listed.rows));
}

async function runAll(t, s) {
  await s.runCommand('Test: Run All Tests');
  const done = await t.pollUntil(async () => {
    const rows = await explorerRows(s);
    const world = row(rows, 'world');
    const azure = row(rows, 'azure');
    return { ok: !!world && world.passed && !!azure && azure.failed, rows };
  }, 120000);
  t.check('Run All Tests: world passed, azure failed', done.ok, JSON.stringify(done.rows));
  const left = await t.pollUntil(async () => {
    const p = s.serverProcesses();
    return { ok: p.length === 0, p };
  }, 20000);
  t.check('the server started for the run is stopped after it', left.ok, JSON.stringify(left.p));
}

/** Clicking the failed case opens its failure's peek: a diff editor, expected left, actual right. */
async function showDiff(t, s) {
  await s.page.locator('.test-explorer .monaco-list-row', { hasText: 'azure' }).first().click();
  const peek = await t.pollUntil(async () => {
    const side = async (which) =>
      ((await s.page.locator(`.test-output-peek .monaco-diff-editor .editor.${which} .view-lines`).first().innerText().catch(() => '')) || '').replace(/\s+/g, ' ');
    const expected = await side('original');
    const actual = await side('modified');
    return { ok: /"Good day, Azure!"/.test(expected) && /"Hello, Azure!"/.test(actual), expected, actual };
  }, 30000);
  t.check('the failing case shows its expected and actual answers as a diff', peek.ok, JSON.stringify({ expected: peek.expected, actual: peek.actual }));
  const opened = await s.tab('azure.expected.json').count();
  t.check('at the case file it came from (azure.expected.json)', opened > 0);
  // code-server's "port available" toast is about its own port forwarding: out of the picture.
  await s.page.locator('.notifications-toasts .codicon-notifications-clear').first().click().catch(() => undefined);
  await s.screenshot('testing-view');
}

/** Opens a workspace file with Quick Open (Ctrl+P), as a user with the explorer hidden does. */
async function quickOpen(s, file, expect) {
  await s.page.keyboard.press('Control+P');
  await s.quickInput().waitFor({ state: 'visible', timeout: 10000 });
  await s.page.keyboard.type(file, { delay: 10 });
  const match = s.page.locator('.quick-input-list .monaco-list-row').filter({ has: s.page.locator('.label-name', { hasText: new RegExp(`^\\s*${file.replace('.', '\\.')}\\s*$`) }) });
  await match.first().click({ timeout: 15000 });
  await s.tab(file).waitFor({ timeout: 20000 });
  await s.editor(expect).locator('.view-lines', { hasText: expect }).waitFor({ timeout: 20000 });
}

async function debugCase(t, s) {
  const { page } = s;
  await page.keyboard.press('Escape'); // close the peek
  await quickOpen(s, 'score.py', 'def init'); // the explorer is hidden behind the Testing view
  await s.goToLine(BREAK_LINE);
  await page.keyboard.press('F9');
  const bp = await t.pollUntil(async () => ({ ok: (await s.editor('def init').locator('.codicon-debug-breakpoint').count()) > 0 }), 10000);
  t.check(`breakpoint set in run() (score.py:${BREAK_LINE})`, bp.ok);
  const world = page.locator('.test-explorer .monaco-list-row', { hasText: 'world' }).first();
  await world.hover();
  await world.locator('.action-label[aria-label="Debug Test"]').click();
  const stopped = await t.pollUntil(async () => {
    const stack = ((await page.locator('.debug-call-stack').innerText().catch(() => '')) || '').replace(/\s+/g, ' ').trim();
    const frameLine = await page.locator('.monaco-editor .debug-top-stack-frame-line').count();
    return { ok: frameLine > 0 && new RegExp(`run score\\.py ${BREAK_LINE}:`).test(stack), stack: stack.slice(0, 200) };
  }, 120000);
  t.check(`Debug Test: the server runs under the debugger and the case stops in run() (score.py:${BREAK_LINE})`, stopped.ok, JSON.stringify(stopped.stack));
  await s.screenshot('debug-test-stopped-in-run');
  await page.keyboard.press('F5'); // Continue: the case gets its answer.
  await s.runCommand('View: Show Testing'); // debugging brought the Run and Debug view forward
  const passed = await t.pollUntil(async () => {
    const rows = await explorerRows(s);
    const r = row(rows, 'world');
    return { ok: !!r && r.passed, rows };
  }, 60000);
  t.check('after Continue the debugged case passes', passed.ok, JSON.stringify(passed.rows));
  const status = await s.waitForStatus(/Scoring: running :\d+ \(debug\)/, 10000);
  t.check('the debug server keeps running (status bar)', status.ok, JSON.stringify(status.t));
}

module.exports = {
  name: 'testing-view',
  timeoutMs: 300000,
  async run(t) {
    const s = await t.open({ files: FILES });
    await showCases(t, s);
    await runAll(t, s);
    await showDiff(t, s);
    await debugCase(t, s);
  },
};
