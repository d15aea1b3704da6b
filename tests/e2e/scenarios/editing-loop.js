// The editor loop as a user walks it: "Start Scoring Server" -> status bar running; break init()
// and save -> the error in Problems at its line; fix and save -> gone; "Send Sample Request" -> 200
// body in the panel; a breakpoint in run() + "Debug Scoring Server" + send -> the debugger stops
// there; an edit while debugging -> the new worker is attached and stops again; Stop -> nothing left.
'use strict';
const cp = require('child_process');

// The workspace: a score.py whose line numbers the checks below rely on.
const SCORE_PY = [
  'import json', //                                1
  '', //                                           2
  'greeting = "Hi"', //                            3
  '', //                                           4
  '', //                                           5
  'def init():', //                                6
  '    global greeting', //                        7
  '    greeting = "Hello"', //                     8  <- broken, then fixed
  '    print("init done")', //                     9
  '', //                                           10
  '', //                                           11
  'def run(raw_data):', //                         12
  '    data = json.loads(raw_data) if raw_data else {}', // 13
  '    name = data.get("name", "world")', //       14
  '    message = f"{greeting}, {name}!"', //        15  <- breakpoint
  '    return {"message": message}', //            16
  '',
].join('\n');
const INIT_LINE = 8;
const BREAK_LINE = 15;

function checkPackage(t) {
  const listing = cp.spawnSync(t.PYTHON, ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', require('../harness').VSIX], { encoding: 'utf8' });
  const entries = listing.stdout.split('\n');
  const wanted = ['extension/LICENSE.txt', 'extension/extension/media/icon.png', 'extension/extension/media/walkthrough/scoring-script.md'];
  t.check('the .vsix carries the LICENSE, the icon and the walkthrough', wanted.every((w) => entries.includes(w)), wanted.filter((w) => !entries.includes(w)).join(', ') || 'all present');
}

async function startAndActivate(t, s) {
  await s.openFile('score.py', 'def init');
  const activated = await s.waitForStatus(/Scoring: (stopped|running|starting)/);
  t.check('extension activated: status bar item shows the server state', activated.ok, JSON.stringify(activated.t));
  const lens = await t.pollUntil(async () => ({ ok: (await s.page.locator('.codelens-decoration', { hasText: 'Send Sample Request' }).count()) > 0 }), 30000);
  t.check('score.py (init and run) shows the Send Sample Request CodeLens', lens.ok);
  await s.runCommand('AzureML Scoring: Start Scoring Server');
  const running = await s.waitForStatus(/Scoring: running :\d+/, 90000);
  t.check('Start Scoring Server: status bar reaches "running :port"', running.ok, JSON.stringify(running.t));
  await s.screenshot('server-running');
}

async function breakAndFixInit(t, s) {
  t.check('init() broken and saved to disk', await s.replaceLineAndSave(INIT_LINE, 'greeting = 1 / 0'));
  await s.showProblems();
  const bad = await t.pollUntil(async () => {
    const rows = await s.problems();
    const hit = rows.find((r) => /ZeroDivisionError/.test(r));
    return { ok: !!hit && new RegExp(`Ln ${INIT_LINE}\\b`).test(hit), rows };
  }, 90000);
  t.check(`Problems panel shows ZeroDivisionError at line ${INIT_LINE}`, bad.ok, JSON.stringify(bad.rows));
  await s.screenshot('init-error-in-problems');
  t.check('init() fixed and saved to disk', await s.replaceLineAndSave(INIT_LINE, 'greeting = "Hello"'));
  const gone = await t.pollUntil(async () => {
    const rows = await s.problems();
    return { ok: !rows.some((r) => /ZeroDivisionError/.test(r)), rows };
  }, 90000);
  t.check('Problems panel no longer shows the init() error after the fix', gone.ok, JSON.stringify(gone.rows));
  const still = await s.waitForStatus(/Scoring: running :\d+/);
  t.check('server running after the reload', still.ok, JSON.stringify(still.t));
  await s.screenshot('init-fixed');
}

async function sendSample(t, s) {
  await s.runCommand('AzureML Scoring: Send Sample Request');
  const inner = s.webview();
  await inner.locator('#send').waitFor({ timeout: 30000 });
  const prefilled = await t.pollUntil(async () => {
    const v = await inner.locator('#body').inputValue().catch(() => '');
    return { ok: /"e2e"/.test(v), v };
  }, 20000);
  t.check('panel body prefilled from sample-request.json', prefilled.ok, JSON.stringify(prefilled.v));
  await inner.locator('#send').click();
  const resp = await t.pollUntil(async () => {
    const status = await inner.locator('#status').innerText().catch(() => '');
    const body = await inner.locator('#response-body').innerText().catch(() => '');
    return { ok: /^200\b/.test(status.trim()) && /"message": "Hello, e2e!"/.test(body), status, body };
  }, 60000);
  t.check('Send: panel shows 200 and the response body', resp.ok, JSON.stringify({ status: resp.status, body: resp.body }));
  const elapsed = await inner.locator('#elapsed').innerText().catch(() => '');
  t.check('panel shows the elapsed time', /\d+ ms/.test(elapsed), JSON.stringify(elapsed));
  await s.screenshot('send-sample-request');
}

async function sendFromPanel(s) {
  const inner = s.webview();
  await s.tab('Send Sample Request').click();
  await inner.locator('#send').waitFor({ timeout: 30000 });
  await inner.locator('#send').click();
  return inner;
}

async function debugRun(t, s) {
  const { page } = s;
  await page.keyboard.press('Control+J'); // hide the panel: more room for the editor and the debugger
  await s.goToLine(BREAK_LINE);
  await page.keyboard.press('F9');
  const bp = await t.pollUntil(async () => ({ ok: (await s.editor('def init').locator('.codicon-debug-breakpoint').count()) > 0 }), 10000);
  t.check(`breakpoint set on line ${BREAK_LINE}`, bp.ok);
  await s.runCommand('AzureML Scoring: Debug Scoring Server');
  const dbg = await s.waitForStatus(/Scoring: running :\d+ \(debug\)/, 120000);
  t.check('Debug Scoring Server: status bar shows running (debug)', dbg.ok, JSON.stringify(dbg.t));
  const session = await t.pollUntil(async () => ({ ok: (await page.locator('.debug-toolbar').count()) > 0 }), 30000);
  t.check('a debug session is active (debug toolbar)', session.ok);
  const inner = await sendFromPanel(s); // the request waits while run() is paused
  const stopped = await t.pollUntil(async () => {
    const frameLine = await page.locator('.monaco-editor .debug-top-stack-frame-line').count();
    const stack = ((await page.locator('.debug-call-stack').innerText().catch(() => '')) || '').replace(/\s+/g, ' ').trim();
    const paused = await page.locator('.pane-header', { hasText: /Paused on breakpoint/i }).count();
    // The top frame is run() in score.py at the breakpoint's line.
    return { ok: frameLine > 0 && paused > 0 && new RegExp(`^run score\\.py ${BREAK_LINE}:`).test(stack), frameLine, paused, stack: stack.slice(0, 200) };
  }, 60000);
  t.check(`debugger stopped at the breakpoint in run() (score.py:${BREAK_LINE})`, stopped.ok, JSON.stringify({ frameLine: stopped.frameLine, paused: stopped.paused, stack: stopped.stack }));
  await s.screenshot('debugger-stopped-in-run');
  await page.keyboard.press('F5'); // Continue: the request completes.
  const after = await t.pollUntil(async () => {
    const status = await inner.locator('#status').innerText().catch(() => '');
    const sending = await inner.locator('#send').isDisabled().catch(() => true);
    return { ok: !sending && /^200\b/.test(status.trim()), status };
  }, 30000);
  t.check('after Continue the request answers 200', after.ok, JSON.stringify(after.status));
}

/**
 * The new generation serves once the debugger attached to it and its init() ran; until then the
 * old workers answer (and stop at the breakpoint too). Send until the answer comes from the new code.
 */
async function reloadWhileDebugging(t, s) {
  t.check('run() edited and saved while debugging', await s.replaceLineAndSave(BREAK_LINE + 1, 'return {"message": message, "generation": 2}'));
  let reloaded = { hit: false, body: '' };
  const deadline = Date.now() + 90000;
  while (!/"generation": 2/.test(reloaded.body) && Date.now() < deadline) {
    const inner = await sendFromPanel(s);
    const hit = await t.pollUntil(async () => ({ ok: (await s.page.locator('.monaco-editor .debug-top-stack-frame-line').count()) > 0 }), 10000);
    if (hit.ok) {
      await s.page.keyboard.press('F5');
    }
    const done = await t.pollUntil(async () => {
      const sending = await inner.locator('#send').isDisabled().catch(() => true);
      return { ok: !sending, body: await inner.locator('#response-body').innerText().catch(() => '') };
    }, 30000);
    reloaded = { hit: hit.ok, body: done.body };
  }
  t.check('after a reload the debugger is re-attached to the new worker and stops in run() again', reloaded.hit && /"generation": 2/.test(reloaded.body), JSON.stringify(reloaded));
}

async function stop(t, s) {
  await s.tab('score.py').click();
  await s.runCommand('AzureML Scoring: Stop Scoring Server');
  const stopped = await s.waitForStatus(/Scoring: stopped/, 30000);
  t.check('Stop Scoring Server: status bar shows stopped', stopped.ok, JSON.stringify(stopped.t));
  const left = await t.pollUntil(async () => {
    const p = s.serverProcesses();
    return { ok: p.length === 0, p };
  }, 15000);
  t.check('no azmlinfsrv server process left after Stop', left.ok, JSON.stringify(left.p));
}

module.exports = {
  name: 'editing-loop',
  timeoutMs: 420000,
  async run(t) {
    checkPackage(t);
    const s = await t.open({
      files: { 'score.py': SCORE_PY, 'model/README.md': 'no model needed\n', 'sample-request.json': '{"name": "e2e"}\n' },
    });
    await startAndActivate(t, s);
    await breakAndFixInit(t, s);
    await sendSample(t, s);
    await debugRun(t, s);
    await reloadWhileDebugging(t, s);
    await stop(t, s);
  },
};
