#!/usr/bin/env node
// End-to-end test of the AzureML Scoring extension in a real VS Code (code-server 4.100.3 =
// VS Code 1.100.3), driven by Playwright in headless Debian Chromium, as a user would:
//   install the .vsix; open a workspace with score.py; "Start Scoring Server" -> status bar
//   running; break init() + save -> error in Problems at the right line; fix + save -> gone;
//   "Send Sample Request" -> Send -> 200 body in the panel; breakpoint in run() + "Debug Scoring
//   Server" + send -> the debugger stops there. Screenshots of each step go to OUT_DIR (printed).
// Poll, never sleep-as-sync; a watchdog; everything in one temp folder; what we start is
// killed by process group at the end. code-server comes from ./setup-code-server.sh.
//
// Env (all optional):
//   VSIX         the package to install        (default <repo>/azmlinfsrv.vsix: `npm run package`)
//   PYTHON       interpreter with azmlinfsrv[daemon] (default <repo>/.venv/bin/python)
//   CODE_SERVER  code-server's out/node/entry.js (default: where setup-code-server.sh puts it)
//   CHROMIUM     browser executable             (default /usr/bin/chromium)
//   OUT_DIR      screenshots + logs             (default <repo>/out/e2e)
//   E2E_TIMEOUT_MS watchdog                     (default 420000)
//   KEEP_TMP=1   keep the temp folder
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');

const REPO = path.resolve(__dirname, '..', '..');
function loadPlaywright() {
  try {
    return require('playwright-core');
  } catch {
    throw new Error('playwright-core not found: run npm ci');
  }
}

const CACHE = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
const CODE_SERVER = process.env.CODE_SERVER || path.join(CACHE, 'azmlinfsrv-e2e/code-server/node_modules/code-server/out/node/entry.js');
const VSIX = path.resolve(process.env.VSIX || path.join(REPO, 'azmlinfsrv.vsix'));
const PYTHON = process.env.PYTHON || path.join(REPO, '.venv', 'bin', 'python');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT_DIR = path.resolve(process.env.OUT_DIR || path.join(REPO, 'out', 'e2e'));

const T0 = Date.now();
let lastMark = T0;
function mark(label) {
  const now = Date.now();
  console.log(`[${((now - T0) / 1000).toFixed(1)}s] ${label} (+${now - lastMark} ms)`);
  lastMark = now;
}
const results = [];
function check(name, ok, detail) {
  results.push({ name, ok: !!ok });
  console.log(`${ok ? 'PASS' : 'FAIL'}: ${name}${detail !== undefined ? ' -- ' + detail : ''}`);
  return !!ok;
}
async function pollUntil(fn, timeoutMs = 15000, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  let last = await fn();
  while (!last.ok && Date.now() < end) {
    await new Promise((r) => setTimeout(r, everyMs));
    last = await fn();
  }
  return last;
}

const WATCHDOG_MS = Number(process.env.E2E_TIMEOUT_MS || 420000);
const watchdog = setTimeout(() => {
  console.error(`watchdog: e2e exceeded ${WATCHDOG_MS} ms`);
  cleanup();
  console.log(`${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length + 1} failed`);
  process.exit(2);
}, WATCHDOG_MS);

let server = null;
let context = null;
let tmpRoot = null;
function cleanup() {
  if (server && server.exitCode === null) {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      try {
        server.kill('SIGTERM');
      } catch {
        /* gone */
      }
    }
  }
}
process.on('exit', cleanup);

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

/** Processes whose command line mentions the temp folder (what this test made the extension start). */
function ourProcesses() {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) {
      continue;
    }
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      let cwd = '';
      try {
        cwd = fs.readlinkSync(`/proc/${d}/cwd`);
      } catch {
        /* not ours to read */
      }
      const mentionsUs = tmpRoot && (cmd.includes(tmpRoot) || cwd.startsWith(tmpRoot));
      if (mentionsUs && /-m azmlinfsrv|gunicorn|azmlinfsrv\.daemon/.test(cmd)) {
        out.push({ pid: Number(d), cmd: cmd.slice(0, 200) });
      }
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * Issue 9: a workspace whose *score*.py files are not scoring scripts (no top-level init and run)
 * gets no daemon (so no diagnostics and no prompt) and no CodeLens. The window is reloaded with a
 * second folder; absence is watched for a bounded time after the extension has activated there.
 */
async function quietWorkspace(page, url, statusText, screenshot) {
  const quiet = path.join(tmpRoot, 'quiet-workspace');
  fs.mkdirSync(quiet, { recursive: true });
  fs.writeFileSync(path.join(quiet, 'test_score.py'), 'def test_score():\n    assert 1 + 1 == 2\n');
  // A top-level run() but no init(): the old name-based detection showed CodeLens and errors here.
  fs.writeFileSync(path.join(quiet, 'f1_score.py'), 'def run(y_true, y_pred):\n    return 1.0\n');
  await page.goto(url + '/?folder=' + encodeURIComponent(quiet));
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'f1_score.py' });
  await row.waitFor({ timeout: 60000 });
  await row.click();
  const editor = page.locator('.editor-group-container .monaco-editor').first();
  await editor.locator('.view-lines', { hasText: 'def run' }).waitFor({ timeout: 20000 });
  const activated = await pollUntil(async () => ({ ok: /Scoring: stopped/.test(await statusText()) }), 60000);
  check('quiet workspace: the extension is active there (status bar)', activated.ok);
  const seen = { daemon: [], lenses: 0, problems: [], notifications: [] };
  const end = Date.now() + 15000;
  while (Date.now() < end) {
    seen.daemon.push(...ourProcesses().filter((p) => p.cmd.includes(quiet) || /azmlinfsrv\.daemon/.test(p.cmd)));
    seen.lenses = Math.max(seen.lenses, await page.locator('.codelens-decoration', { hasText: /Send Sample Request|Debug/ }).count());
    seen.notifications.push(...(await page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts().catch(() => [])).filter((t) => /azmlinfsrv|AzureML/i.test(t)));
    await new Promise((r) => setTimeout(r, 500));
  }
  await page.keyboard.press('Control+Shift+M');
  await page.locator('.markers-panel').waitFor({ timeout: 15000 }).catch(() => undefined);
  seen.problems = (await page.locator('.markers-panel .monaco-list-row').allInnerTexts().catch(() => [])).filter((t) => /azmlinfsrv/.test(t));
  await screenshot('quiet-workspace');
  check('quiet workspace (test_score.py, f1_score.py): no daemon started', seen.daemon.length === 0, JSON.stringify(seen.daemon.slice(0, 2)));
  check('quiet workspace: no azmlinfsrv CodeLens', seen.lenses === 0, String(seen.lenses));
  check('quiet workspace: no azmlinfsrv diagnostics', seen.problems.length === 0, JSON.stringify(seen.problems));
  check('quiet workspace: no azmlinfsrv prompt', seen.notifications.length === 0, JSON.stringify([...new Set(seen.notifications)]));
}

async function main() {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  for (const f of fs.readdirSync(OUT_DIR)) {
    if (f.endsWith('.png')) {
      fs.rmSync(path.join(OUT_DIR, f));
    }
  }
  console.log(`screenshots and logs: ${OUT_DIR}`);
  if (!check('VSIX exists (npm run package)', fs.existsSync(VSIX), VSIX)) {
    return;
  }
  const listing = cp.spawnSync(PYTHON, ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', VSIX], { encoding: 'utf8' });
  const entries = listing.stdout.split('\n');
  const wanted = ['extension/LICENSE.txt', 'extension/extension/media/icon.png', 'extension/extension/media/walkthrough/scoring-script.md'];
  check('the .vsix carries the LICENSE, the icon and the walkthrough', wanted.every((w) => entries.includes(w)), wanted.filter((w) => !entries.includes(w)).join(', ') || 'all present');
  const imp = cp.spawnSync(PYTHON, ['-c', 'import azmlinfsrv.daemon'], { encoding: 'utf8' });
  if (!check(`${PYTHON} can import azmlinfsrv.daemon`, imp.status === 0, (imp.stderr || '').trim().split('\n').pop())) {
    return;
  }
  if (!check('code-server installed (tests/e2e/setup-code-server.sh)', fs.existsSync(CODE_SERVER), CODE_SERVER)) {
    return;
  }
  const { chromium } = loadPlaywright();

  tmpRoot = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'azml-e2e-')));
  const userDataDir = path.join(tmpRoot, 'user-data');
  const extDir = path.join(tmpRoot, 'extensions');
  const ws = path.join(tmpRoot, 'workspace');
  const browserProfile = path.join(tmpRoot, 'chromium-profile');
  for (const d of [userDataDir, extDir, ws, browserProfile, path.join(userDataDir, 'User'), path.join(ws, 'model')]) {
    fs.mkdirSync(d, { recursive: true });
  }
  const scorePath = path.join(ws, 'score.py');
  fs.writeFileSync(scorePath, SCORE_PY);
  fs.writeFileSync(path.join(ws, 'model', 'README.md'), 'no model needed\n');
  fs.writeFileSync(path.join(ws, 'sample-request.json'), '{"name": "e2e"}\n');
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'security.workspace.trust.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'extensions.ignoreRecommendations': true,
        'workbench.enableExperiments': false,
        'workbench.tips.enabled': false,
        'git.enabled': false,
        'chat.commandCenter.enabled': false,
        'workbench.welcomePage.walkthroughs.openOnInstall': false,
        'editor.autoClosingQuotes': 'never',
        'editor.autoClosingBrackets': 'never',
        'files.autoSave': 'off',
        // No .venv in the workspace and no Python extension: the interpreter comes from our setting.
        'azmlinfsrv.pythonPath': PYTHON,
      },
      null,
      2,
    ),
  );
  const configYaml = path.join(tmpRoot, 'config.yaml');
  fs.writeFileSync(configYaml, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');
  const csArgs = ['--config', configYaml, '--user-data-dir', userDataDir, '--extensions-dir', extDir];
  const isoEnv = {};
  for (const [k, d] of [['TMPDIR', 'tmp'], ['XDG_DATA_HOME', 'xdg-data'], ['XDG_CACHE_HOME', 'xdg-cache'], ['XDG_CONFIG_HOME', 'xdg-config']]) {
    isoEnv[k] = path.join(tmpRoot, d);
    fs.mkdirSync(isoEnv[k], { recursive: true });
  }
  mark('prepared ' + tmpRoot);

  // 1. install the .vsix like a user.
  const inst = cp.spawnSync(process.execPath, [CODE_SERVER, ...csArgs, '--install-extension', VSIX], { encoding: 'utf8', env: { ...process.env, ...isoEnv } });
  check('code-server --install-extension azmlinfsrv.vsix', inst.status === 0 && /successfully installed/.test(inst.stdout), (inst.stdout + inst.stderr).trim().split('\n').pop());
  mark('installed vsix');

  // 2. code-server.
  server = cp.spawn(
    process.execPath,
    [CODE_SERVER, ...csArgs, '--bind-addr', '127.0.0.1:0', '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', ws],
    { env: { ...process.env, ...isoEnv }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const serverLog = fs.createWriteStream(path.join(OUT_DIR, 'code-server.log'));
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d) => {
      serverLog.write(d);
      buf += d.toString();
      const m = buf.match(/HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        resolve(m[1]);
      }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', onData);
    server.on('exit', (c) => reject(new Error('code-server exited early rc=' + c + '\n' + buf)));
    setTimeout(() => reject(new Error('code-server did not start in 30s\n' + buf)), 30000);
  });
  mark('code-server at ' + url);

  // 3. browser.
  context = await chromium.launchPersistentContext(browserProfile, {
    executablePath: CHROMIUM,
    env: { ...process.env, ...isoEnv },
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const page = context.pages()[0] || (await context.newPage());
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') {
      consoleErrors.push(m.text());
    }
  });
  let shot = 0;
  async function screenshot(name) {
    const file = path.join(OUT_DIR, `${++shot}-${name}.png`);
    await page.screenshot({ path: file });
    console.log(`  screenshot ${file}`);
  }

  await page.goto(url + '/?folder=' + encodeURIComponent(ws));
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  const explorerRow = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'score.py' });
  await explorerRow.waitFor({ timeout: 60000 });
  await explorerRow.click();
  await page.locator('.tabs-container .tab', { hasText: 'score.py' }).waitFor({ timeout: 20000 });
  const editor = page.locator('.editor-group-container .monaco-editor', { hasText: 'def init' }).first();
  await editor.locator('.view-lines', { hasText: 'def run' }).waitFor({ timeout: 20000 });
  mark('score.py open');

  const statusItem = page.locator('.statusbar-item', { hasText: 'Scoring:' }).first();
  const statusText = async () => ((await statusItem.innerText().catch(() => '')) || '').replace(/\s+/g, ' ').trim();
  const activated = await pollUntil(async () => ({ ok: /Scoring: (stopped|running|starting)/.test(await statusText()), t: await statusText() }), 60000);
  check('extension activated: status bar item shows the server state', activated.ok, JSON.stringify(activated.t));
  const lensOnScore = await pollUntil(async () => ({ ok: (await page.locator('.codelens-decoration', { hasText: 'Send Sample Request' }).count()) > 0 }), 30000);
  check('score.py (init and run) shows the Send Sample Request CodeLens', lensOnScore.ok);

  // Clicking the tab activates score.py's editor and gives it the keyboard focus.
  async function focusEditor() {
    await page.locator('.tabs-container .tab', { hasText: 'score.py' }).first().click();
    await pollUntil(async () => ({ ok: await page.evaluate(() => !!document.activeElement && !!document.activeElement.closest('.monaco-editor')) }), 5000);
  }
  async function runCommand(title) {
    await focusEditor();
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input[type="text"], .quick-input-widget .quick-input-box input').first();
    await input.waitFor({ state: 'visible', timeout: 10000 });
    await page.keyboard.type(title, { delay: 10 });
    // Pick the row whose label is exactly the title (fuzzy ranking may focus another one first).
    const exact = new RegExp(`^\\s*${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
    const row = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: exact }) }).first();
    await row.waitFor({ timeout: 15000 });
    await row.click();
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10000 });
  }
  async function goToLine(n) {
    await focusEditor();
    await page.keyboard.press('Control+G');
    await page.locator('.quick-input-widget').waitFor({ state: 'visible', timeout: 10000 });
    await page.keyboard.type(String(n), { delay: 10 });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10000 });
  }
  /** Replaces the text of line n after its indentation, then saves (Ctrl+S) and waits for the disk. */
  async function replaceLineAndSave(n, text) {
    await goToLine(n);
    await page.keyboard.press('End');
    await page.keyboard.press('Shift+Home');
    await page.keyboard.type(text, { delay: 5 });
    await page.keyboard.press('Control+S');
    const saved = await pollUntil(async () => ({ ok: fs.readFileSync(scorePath, 'utf8').split('\n')[n - 1].trim() === text }), 10000);
    return saved.ok;
  }
  async function problems() {
    return (await page.locator('.markers-panel .monaco-list-row').allInnerTexts().catch(() => [])).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  // 4. Start Scoring Server from the palette -> status bar reaches running.
  await runCommand('AzureML Scoring: Start Scoring Server');
  const running = await pollUntil(async () => {
    const t = await statusText();
    return { ok: /Scoring: running :\d+/.test(t), t };
  }, 90000);
  check('Start Scoring Server: status bar reaches "running :port"', running.ok, JSON.stringify(running.t));
  mark('server running');
  await screenshot('server-running');

  // 5. Break init(), save: the error appears in Problems at line INIT_LINE.
  const broke = await replaceLineAndSave(INIT_LINE, 'greeting = 1 / 0');
  check('init() broken and saved to disk', broke);
  await page.keyboard.press('Control+Shift+M'); // Problems panel
  await page.locator('.markers-panel').waitFor({ timeout: 15000 }).catch(() => undefined);
  const bad = await pollUntil(async () => {
    const rows = await problems();
    const hit = rows.find((r) => /ZeroDivisionError/.test(r));
    return { ok: !!hit && new RegExp(`Ln ${INIT_LINE}\\b`).test(hit), rows };
  }, 90000);
  check(`Problems panel shows ZeroDivisionError at line ${INIT_LINE}`, bad.ok, JSON.stringify(bad.rows));
  mark('problem shown');
  await screenshot('init-error-in-problems');

  // 6. Fix it, save: the problem goes away.
  const fixed = await replaceLineAndSave(INIT_LINE, 'greeting = "Hello"');
  check('init() fixed and saved to disk', fixed);
  const gone = await pollUntil(async () => {
    const rows = await problems();
    return { ok: !rows.some((r) => /ZeroDivisionError/.test(r)), rows };
  }, 90000);
  check('Problems panel no longer shows the init() error after the fix', gone.ok, JSON.stringify(gone.rows));
  const stillRunning = await pollUntil(async () => ({ ok: /Scoring: running :\d+/.test(await statusText()), t: await statusText() }), 60000);
  check('server running after the reload', stillRunning.ok, JSON.stringify(stillRunning.t));
  mark('problem gone');
  await screenshot('init-fixed');

  // 7. Send Sample Request: prefilled from sample-request.json, Send, read the 200 body.
  await runCommand('AzureML Scoring: Send Sample Request');
  const inner = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await inner.locator('#send').waitFor({ timeout: 30000 });
  const prefilled = await pollUntil(async () => {
    const v = await inner.locator('#body').inputValue().catch(() => '');
    return { ok: /"e2e"/.test(v), v };
  }, 20000);
  check('panel body prefilled from sample-request.json', prefilled.ok, JSON.stringify(prefilled.v));
  await inner.locator('#send').click();
  const resp = await pollUntil(async () => {
    const status = await inner.locator('#status').innerText().catch(() => '');
    const body = await inner.locator('#response-body').innerText().catch(() => '');
    return { ok: /^200\b/.test(status.trim()) && /"message": "Hello, e2e!"/.test(body), status, body };
  }, 60000);
  check('Send: panel shows 200 and the response body', resp.ok, JSON.stringify({ status: resp.status, body: resp.body }));
  const elapsed = await inner.locator('#elapsed').innerText().catch(() => '');
  check('panel shows the elapsed time', /\d+ ms/.test(elapsed), JSON.stringify(elapsed));
  mark('request sent');
  await screenshot('send-sample-request');

  // 8. Breakpoint in run(), Debug Scoring Server, send: the debugger stops at that line.
  await page.keyboard.press('Control+J'); // hide the panel: more room for the editor and the debugger
  await goToLine(BREAK_LINE);
  await page.keyboard.press('F9');
  const bp = await pollUntil(async () => ({ ok: (await editor.locator('.codicon-debug-breakpoint').count()) > 0 }), 10000);
  check(`breakpoint set on line ${BREAK_LINE}`, bp.ok);
  await runCommand('AzureML Scoring: Debug Scoring Server');
  const dbgRunning = await pollUntil(async () => {
    const t = await statusText();
    return { ok: /Scoring: running :\d+ \(debug\)/.test(t), t };
  }, 120000);
  check('Debug Scoring Server: status bar shows running (debug)', dbgRunning.ok, JSON.stringify(dbgRunning.t));
  const session = await pollUntil(async () => ({ ok: (await page.locator('.debug-toolbar').count()) > 0 }), 30000);
  check('a debug session is active (debug toolbar)', session.ok);
  mark('debug session up');
  // Send from the panel (the request waits while run() is paused).
  await page.locator('.tabs-container .tab', { hasText: 'Send Sample Request' }).first().click();
  await inner.locator('#send').waitFor({ timeout: 30000 });
  await inner.locator('#send').click();
  const stopped = await pollUntil(async () => {
    const frameLine = await page.locator('.monaco-editor .debug-top-stack-frame-line').count();
    const stack = ((await page.locator('.debug-call-stack').innerText().catch(() => '')) || '').replace(/\s+/g, ' ').trim();
    const paused = await page.locator('.pane-header', { hasText: /Paused on breakpoint/i }).count();
    // The top frame is run() in score.py at the breakpoint's line.
    return { ok: frameLine > 0 && paused > 0 && new RegExp(`^run score\\.py ${BREAK_LINE}:`).test(stack), frameLine, paused, stack: stack.slice(0, 200) };
  }, 60000);
  check(`debugger stopped at the breakpoint in run() (score.py:${BREAK_LINE})`, stopped.ok, JSON.stringify({ frameLine: stopped.frameLine, paused: stopped.paused, stack: stopped.stack }));
  mark('breakpoint hit');
  await screenshot('debugger-stopped-in-run');
  // Continue: the request completes.
  await page.keyboard.press('F5');
  const after = await pollUntil(async () => {
    const status = await inner.locator('#status').innerText().catch(() => '');
    const sending = await inner.locator('#send').isDisabled().catch(() => true);
    return { ok: !sending && /^200\b/.test(status.trim()), status };
  }, 30000);
  check('after Continue the request answers 200', after.ok, JSON.stringify(after.status));
  await screenshot('after-continue');

  // 9. Reload while debugging: the new worker is attached automatically and the breakpoint hits there.
  const edited = await replaceLineAndSave(BREAK_LINE + 1, 'return {"message": message, "generation": 2}');
  check('run() edited and saved while debugging', edited);
  await page.locator('.tabs-container .tab', { hasText: 'Send Sample Request' }).first().click();
  await inner.locator('#send').waitFor({ timeout: 30000 });
  // The new generation serves once the debugger attached to it and its init() ran; until then the old
  // workers answer (and stop at the breakpoint too). Send until the answer comes from the new code.
  let reloaded = { hit: false, body: '' };
  const reloadDeadline = Date.now() + 90000;
  while (!/"generation": 2/.test(reloaded.body) && Date.now() < reloadDeadline) {
    await inner.locator('#send').click();
    const hit = await pollUntil(async () => ({ ok: (await page.locator('.monaco-editor .debug-top-stack-frame-line').count()) > 0 }), 10000);
    if (hit.ok) {
      await screenshot('debugger-stopped-after-reload');
      shot--; // keep one file for this step, overwritten by each round
      await page.keyboard.press('F5');
    }
    const done = await pollUntil(async () => {
      const sending = await inner.locator('#send').isDisabled().catch(() => true);
      return { ok: !sending, body: await inner.locator('#response-body').innerText().catch(() => '') };
    }, 30000);
    reloaded = { hit: hit.ok, body: done.body };
  }
  shot++;
  check('after a reload the debugger is re-attached to the new worker and stops in run() again', reloaded.hit && /"generation": 2/.test(reloaded.body), JSON.stringify(reloaded));

  // 10. Stop.
  await page.locator('.tabs-container .tab', { hasText: 'score.py' }).first().click();
  await runCommand('AzureML Scoring: Stop Scoring Server');
  const stoppedServer = await pollUntil(async () => ({ ok: /Scoring: stopped/.test(await statusText()), t: await statusText() }), 30000);
  check('Stop Scoring Server: status bar shows stopped', stoppedServer.ok, JSON.stringify(stoppedServer.t));
  const leftovers = await pollUntil(async () => {
    const p = ourProcesses().filter((x) => /-m azmlinfsrv --|gunicorn/.test(x.cmd));
    return { ok: p.length === 0, p };
  }, 15000);
  check('no azmlinfsrv server process left after Stop', leftovers.ok, JSON.stringify(leftovers.p));
  await quietWorkspace(page, url, statusText, screenshot);
  fs.writeFileSync(path.join(OUT_DIR, 'browser-console-errors.txt'), consoleErrors.join('\n'));
}

main()
  .catch(async (e) => {
    check('e2e run completed without exception', false, e.stack || String(e));
    try {
      const pg = context && context.pages()[0];
      if (pg) {
        await pg.screenshot({ path: path.join(OUT_DIR, 'failure.png') });
        console.log(`  screenshot ${path.join(OUT_DIR, 'failure.png')}`);
      }
    } catch {
      /* ignore */
    }
  })
  .finally(async () => {
    try {
      if (context) {
        await context.close();
      }
    } catch {
      /* ignore */
    }
    cleanup();
    // Keep the extension's output channel (server logs, daemon stderr) next to the screenshots.
    if (tmpRoot) {
      const walk = (d) => (fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)])) : []);
      for (const f of walk(path.join(tmpRoot, 'user-data', 'logs')).filter((f) => /AzureML Scoring|exthost\.log$/.test(path.basename(f)))) {
        fs.copyFileSync(f, path.join(OUT_DIR, path.basename(f).replace(/^\d+-/, '').replace(/\s+/g, '-')));
      }
    }
    // The server follows the daemon's death within seconds; anything left is reported and killed.
    if (tmpRoot) {
      const orphans = await pollUntil(async () => {
        const p = ourProcesses();
        return { ok: p.length === 0, p };
      }, 15000);
      check('no orphan daemon/server process after VS Code exits', orphans.ok, JSON.stringify(orphans.p));
      for (const p of orphans.p || []) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    clearTimeout(watchdog);
    mark('teardown');
    console.log(`total e2e wall time: ${((Date.now() - T0) / 1000).toFixed(1)} s`);
    console.log(`screenshots and logs: ${OUT_DIR}`);
    if (tmpRoot && process.env.KEEP_TMP !== '1') {
      try {
        fs.rmSync(tmpRoot, { recursive: true, force: true });
      } catch {
        /* ignore */
      }
    }
    const passed = results.filter((r) => r.ok).length;
    const failed = results.length - passed;
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  });
