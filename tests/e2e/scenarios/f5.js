// Issue 10, debugging like the Python Debugger: in a folder with score.py and no launch.json,
// F5 (the azmlinfsrv configuration) serves score.py under the debugger and stops at a breakpoint
// in init(), then in run() after a request; the CALL STACK shows the user's frames only (no
// azmlinfsrv __main__.py, gunicorn or flask) under a session named `score.py worker <pid>`;
// ending the debug session stops that server.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

const SCORE_PY = [
  'import json', //                                  1
  '', //                                             2
  '', //                                             3
  'def init():', //                                  4
  '    global greeting', //                          5
  '    greeting = "Hello"', //                       6  <- breakpoint in init()
  '', //                                             7
  '', //                                             8
  'def run(raw_data):', //                           9
  '    name = json.loads(raw_data)["name"]', //      10
  '    message = f"{greeting}, {name}!"', //         11 <- breakpoint in run()
  '    return {"message": message}', //              12
  '',
].join('\n');
const INIT_LINE = 6;
const RUN_LINE = 11;
const SERVER_FRAMES = /__main__\.py|launch\.py|site-packages|gunicorn|flask|azmlinfsrv[\\/]/;

async function setBreakpoint(t, s, line) {
  await s.goToLine(line);
  await s.page.keyboard.press('F9');
  const ok = await t.pollUntil(async () => ({ ok: (await s.editor('def init').locator('.codicon-debug-breakpoint').count()) >= 1 }), 10000);
  t.check(`breakpoint set on line ${line}`, ok.ok);
}

/** F5 over score.py; when VS Code asks which debugger, the user picks AzureML Scoring. */
async function pressF5(t, s) {
  await s.focusEditor('score.py');
  await s.page.keyboard.press('F5');
  const picker = s.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'AzureML Scoring' }).first();
  const asked = await t.pollUntil(async () => ({ ok: (await picker.isVisible().catch(() => false)) || (await s.page.locator('.debug-toolbar').count()) > 0 }), 30000);
  if (asked.ok && (await picker.isVisible().catch(() => false))) {
    t.mark('F5 asked which debugger: picking AzureML Scoring');
    await picker.click();
  } else {
    t.mark('F5 went straight to the AzureML Scoring configuration (the only debugger for Python here)');
  }
}

async function callStack(s) {
  return ((await s.page.locator('.debug-call-stack').innerText().catch(() => '')) || '').replace(/\s+/g, ' ').trim();
}

/** Waits until the debugger is paused at `line` in `fn` of score.py; returns the CALL STACK text. */
async function pausedAt(t, s, fn, line) {
  return t.pollUntil(async () => {
    const stack = await callStack(s);
    const frameLine = await s.page.locator('.monaco-editor .debug-top-stack-frame-line').count();
    return { ok: frameLine > 0 && new RegExp(`\\b${fn} score\\.py ${line}:`).test(stack), stack: stack.slice(0, 300) };
  }, 120000);
}

function checkUserFramesOnly(t, stack, where) {
  t.check(`${where}: the CALL STACK has no server frame (__main__.py, launch.py, gunicorn, flask, azmlinfsrv)`, !SERVER_FRAMES.test(stack), JSON.stringify(stack));
  t.check(`${where}: the worker's session is named "score.py worker <pid>"`, /score\.py worker \d+/.test(stack), JSON.stringify(stack));
}

function post(port, body) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/score', method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', (e) => resolve({ status: 0, body: String(e) }));
    req.end(body);
  });
}

/** Drags the side bar wider, so the CALL STACK shows the sessions' whole names in the screenshots. */
async function widenSideBar(s) {
  const box = await s.page.locator('.part.sidebar').boundingBox().catch(() => null);
  if (box) {
    const x = box.x + box.width + 1;
    const y = box.y + box.height / 2;
    await s.page.mouse.move(x, y);
    await s.page.mouse.down();
    await s.page.mouse.move(x + 160, y, { steps: 8 });
    await s.page.mouse.up();
    await s.page.mouse.move(x + 400, box.y + 40); // off the sash, so it is not drawn highlighted
  }
}

async function initThenRun(t, s) {
  const init = await pausedAt(t, s, 'init', INIT_LINE);
  await widenSideBar(s);
  t.check(`F5 stops at the breakpoint in init() (score.py:${INIT_LINE})`, init.ok, JSON.stringify(init.stack));
  checkUserFramesOnly(t, init.stack, 'in init()');
  await s.screenshot('f5-init-breakpoint');
  await s.page.keyboard.press('F5'); // Continue: init() finishes, the server serves.
  const running = await s.waitForStatus(/Scoring: running :\d+/, 60000);
  t.check('after Continue the server runs (debug)', running.ok, JSON.stringify(running.t));
  const port = Number((/running :(\d+)/.exec(running.t) || [])[1]);
  const answer = post(port, '{"name": "F5"}');
  const run = await pausedAt(t, s, 'run', RUN_LINE);
  t.check(`a request stops at the breakpoint in run() (score.py:${RUN_LINE})`, run.ok, JSON.stringify(run.stack));
  checkUserFramesOnly(t, run.stack, 'in run()');
  await s.screenshot('f5-run-breakpoint');
  await s.page.keyboard.press('F5');
  const got = await answer;
  t.check('after Continue the request answers 200', got.status === 200 && /Hello, F5!/.test(got.body), JSON.stringify(got));
}

async function stopSession(t, s) {
  await s.page.keyboard.press('Shift+F5');
  const gone = await t.pollUntil(async () => ({ ok: (await s.page.locator('.debug-toolbar').count()) === 0 || !(await s.page.locator('.debug-toolbar').isVisible()) }), 30000);
  t.check('Shift+F5 ends the debug session', gone.ok);
  const stopped = await s.waitForStatus(/Scoring: stopped/, 30000);
  t.check('ending the debug session stops that server (status bar: stopped)', stopped.ok, JSON.stringify(stopped.t));
  const left = await t.pollUntil(async () => {
    const p = s.serverProcesses();
    return { ok: p.length === 0, p };
  }, 30000);
  t.check('no server process left after the debug session', left.ok, JSON.stringify(left.p));
}

module.exports = {
  name: 'f5',
  timeoutMs: 360000,
  async run(t) {
    const s = await t.open({ settings: { 'remote.autoForwardPorts': false }, files: { 'score.py': SCORE_PY } });
    await s.openFile('score.py', 'def init');
    await s.waitForStatus(/Scoring: (stopped|running|starting)/);
    t.check('the workspace has no launch.json', !fs.existsSync(path.join(s.workspace, '.vscode', 'launch.json')));
    await setBreakpoint(t, s, INIT_LINE);
    await setBreakpoint(t, s, RUN_LINE);
    await pressF5(t, s);
    await initThenRun(t, s);
    await stopSession(t, s);
  },
};
