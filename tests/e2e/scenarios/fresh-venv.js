// Issue 9's new user: a venv holding only scikit-learn and joblib (no azmlinfsrv, pygls,
// lsprotocol, psutil, debugpy or flask), the .vsix installed, a workspace whose score.py loads a
// pickled model from AZUREML_MODEL_DIR. Start from the palette -> running :5001 (or the port the
// status names, when 5001 is taken, and that port answers); Send Sample Request -> 200; Debug
// Scoring Server -> stops at a breakpoint in init(), then in run(). `pip freeze` of the venv is
// the same before and after: the extension brought its own Python side and installed nothing.
'use strict';
const cp = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');

const SCORE_PY = [
  'import json', //                                                       1
  'import os', //                                                         2
  '', //                                                                  3
  'import joblib', //                                                     4
  '', //                                                                  5
  '', //                                                                  6
  'def init():', //                                                       7
  '    global model', //                                                  8
  '    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl")', // 9
  '    model = joblib.load(path)', //                                     10 <- breakpoint in init()
  '', //                                                                  11
  '', //                                                                  12
  'def run(raw_data):', //                                                13
  '    rows = json.loads(raw_data)["data"]', //                           14
  '    predictions = model.predict(rows)', //                             15 <- breakpoint in run()
  '    return {"predictions": [round(float(p), 3) for p in predictions]}', // 16
  '',
].join('\n');
const INIT_LINE = 10;
const RUN_LINE = 15;
const OURS = ['azmlinfsrv', 'pygls', 'lsprotocol', 'psutil', 'debugpy', 'flask'];
// y = x0 + 2*x1, learnt exactly by a linear regression: [[1, 2]] -> 5.
const TRAIN = `
import sys, joblib
from sklearn.linear_model import LinearRegression
X = [[0, 0], [1, 0], [0, 1], [2, 3], [4, 1]]
model = LinearRegression().fit(X, [a + 2 * b for a, b in X])
joblib.dump(model, sys.argv[1])
`;

function run(command, args, what) {
  const r = cp.spawnSync(command, args, { encoding: 'utf8', timeout: 600000 });
  if (r.status !== 0) {
    throw new Error(`${what} failed (${r.status}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-5).join('\n')}`);
  }
  return r.stdout;
}

/** A venv with scikit-learn and joblib only (pip's cache makes reruns fast); returns its python. */
function makeVenv(t, dir) {
  const base = run(t.PYTHON, ['-c', 'import sys; print(getattr(sys, "_base_executable", sys.executable))'], 'finding the base python').trim();
  run(base, ['-m', 'venv', dir], 'python -m venv');
  const python = path.join(dir, 'bin', 'python');
  run(python, ['-m', 'pip', 'install', '--quiet', 'scikit-learn', 'joblib'], 'pip install scikit-learn joblib');
  return python;
}

const freeze = (python) => run(python, ['-m', 'pip', 'freeze', '--all'], 'pip freeze');

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function get(port, pathName) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathName, timeout: 10000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', (e) => resolve({ status: 0, body: String(e) }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

async function startFromPalette(t, s, fivePortFree) {
  await s.openFile('score.py', 'def init');
  await s.runCommand('AzureML Scoring: Start Scoring Server');
  const running = await s.waitForStatus(/Scoring: running :\d+/, 120000);
  t.check('Start Scoring Server with the fresh venv: status bar reaches "running :port"', running.ok, JSON.stringify(running.t));
  const port = Number((/running :(\d+)/.exec(running.t || '') || [])[1]);
  if (fivePortFree) {
    t.check('the status bar shows port 5001 (it was free)', port === 5001, JSON.stringify(running.t));
  } else {
    t.mark(`5001 was taken on this machine before the start: the status shows :${port}`);
  }
  const health = await get(port, '/');
  t.check(`the server answers on the port the status bar shows (:${port})`, health.status === 200 && /Healthy/.test(health.body), JSON.stringify(health));
  await s.screenshot('running');
  return port;
}

async function sendSample(t, s) {
  await s.runCommand('AzureML Scoring: Send Sample Request');
  const inner = s.webview();
  await inner.locator('#send').waitFor({ timeout: 30000 });
  await t.pollUntil(async () => ({ ok: /"data"/.test(await inner.locator('#body').inputValue().catch(() => '')) }), 20000);
  await inner.locator('#send').click();
  const resp = await t.pollUntil(async () => {
    const status = await inner.locator('#status').innerText().catch(() => '');
    const body = await inner.locator('#response-body').innerText().catch(() => '');
    return { ok: /^200\b/.test(status.trim()) && /"predictions": \[\s*5(\.0)?\s*\]/.test(body), status, body };
  }, 60000);
  t.check('Send Sample Request: 200 with the pickled model\'s prediction', resp.ok, JSON.stringify({ status: resp.status, body: resp.body }));
  await s.screenshot('sample-request');
}

/** Where the debugger is paused: the top frame of the call stack, e.g. "init score.py 10:". */
async function pausedAt(t, s, fn, line) {
  return t.pollUntil(async () => {
    const stack = ((await s.page.locator('.debug-call-stack').innerText().catch(() => '')) || '').replace(/\s+/g, ' ').trim();
    const frame = await s.page.locator('.monaco-editor .debug-top-stack-frame-line').count();
    return { ok: frame > 0 && new RegExp(`^${fn} score\\.py ${line}:`).test(stack), stack: stack.slice(0, 160) };
  }, 90000);
}

async function debugInitAndRun(t, s) {
  const { page } = s;
  for (const line of [INIT_LINE, RUN_LINE]) {
    await s.goToLine(line);
    await page.keyboard.press('F9');
  }
  const bps = await t.pollUntil(async () => ({ ok: (await s.editor('def init').locator('.codicon-debug-breakpoint').count()) === 2 }), 10000);
  t.check(`breakpoints set in init() (line ${INIT_LINE}) and run() (line ${RUN_LINE})`, bps.ok);
  await s.runCommand('AzureML Scoring: Debug Scoring Server');
  const inInit = await pausedAt(t, s, 'init', INIT_LINE);
  t.check(`Debug Scoring Server: the debugger stops in init() (score.py:${INIT_LINE})`, inInit.ok, JSON.stringify(inInit.stack));
  await s.screenshot('stopped-in-init');
  await page.keyboard.press('F5');
  const dbg = await s.waitForStatus(/Scoring: running :\d+ \(debug\)/, 90000);
  t.check('after Continue the status bar shows running (debug)', dbg.ok, JSON.stringify(dbg.t));
  await s.tab('Send Sample Request').click();
  const inner = s.webview();
  await inner.locator('#send').waitFor({ timeout: 30000 });
  await inner.locator('#send').click();
  const inRun = await pausedAt(t, s, 'run', RUN_LINE);
  t.check(`a request stops the debugger in run() (score.py:${RUN_LINE})`, inRun.ok, JSON.stringify(inRun.stack));
  await s.screenshot('stopped-in-run');
  await page.keyboard.press('F5');
  const done = await t.pollUntil(async () => ({ ok: /^200\b/.test((await inner.locator('#status').innerText().catch(() => '')).trim()) }), 30000);
  t.check('after Continue the request answers 200', done.ok);
}

module.exports = {
  name: 'fresh-venv',
  timeoutMs: 600000,
  async run(t) {
    const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'azml-e2e-venv-')));
    // Removed when the run ends, after the runner has closed VS Code (the daemon runs from this venv).
    process.on('exit', () => process.env.KEEP_TMP === '1' || fs.rmSync(tmp, { recursive: true, force: true }));
    {
      t.mark('fresh venv: python -m venv + pip install scikit-learn joblib');
      const python = makeVenv(t, path.join(tmp, 'venv'));
      const model = path.join(tmp, 'model.pkl');
      run(python, ['-c', TRAIN, model], 'training the model');
      const before = freeze(python);
      const names = before.split('\n').map((l) => l.split('==')[0].trim().toLowerCase());
      t.check('the venv holds none of azmlinfsrv, pygls, lsprotocol, psutil, debugpy, flask', !OURS.some((n) => names.includes(n)), before.replace(/\n/g, ' '));
      const fivePortFree = await portFree(5001);
      const s = await t.open({
        python,
        files: { 'score.py': SCORE_PY, 'model/model.pkl': fs.readFileSync(model), 'sample-request.json': '{"data": [[1, 2]]}\n' },
      });
      await startFromPalette(t, s, fivePortFree);
      await sendSample(t, s);
      await debugInitAndRun(t, s);
      await s.runCommand('AzureML Scoring: Stop Scoring Server');
      const stopped = await s.waitForStatus(/Scoring: stopped/, 30000);
      t.check('Stop Scoring Server: status bar shows stopped', stopped.ok, JSON.stringify(stopped.t));
      const after = freeze(python);
      t.check('pip freeze of the venv is the same before and after', after === before, after === before ? `${names.length - 1} packages` : `before: ${before}\nafter: ${after}`);
    }
  },
};
