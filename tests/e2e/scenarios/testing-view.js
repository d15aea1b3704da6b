// Issue 12: sample requests as tests in VS Code's Testing view. A workspace with score.py and
// sample-requests/ holding one case that passes and one whose expected answer differs: the Testing
// view lists both, "Run All Tests" shows one passed and one failed, and the failure's peek shows
// the expected and actual answers side by side. No server was running: the daemon starts one for
// the run and stops it again.
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
  '    name = json.loads(raw_data).get("name", "world")',
  '    return {"message": f"Hello, {name}!"}',
  '',
].join('\n');

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
    const p = s.processes().filter((x) => /-m azmlinfsrv --|gunicorn/.test(x.cmd));
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

module.exports = {
  name: 'testing-view',
  timeoutMs: 300000,
  async run(t) {
    const s = await t.open({ files: FILES });
    await showCases(t, s);
    await runAll(t, s);
    await showDiff(t, s);
  },
};
