// The server's one state, shown everywhere, as a user walks through each: stopped (the palette
// offers Start, never Stop or Restart; a Start CodeLens), starting (the status bar and the
// progress say "running init()"), running (the progress is gone), running with the last reload
// failed (warning colour, the error; a click opens it), reloaded, paused in the debugger (a
// breakpoint in init(): paused, not "waiting for the debugger"), and failed. One screenshot each.
'use strict';
const fs = require('fs');
const path = require('path');

// init() sleeps, so the starting state (and its phase) is on screen long enough to be seen.
const SCORE_PY = [
  'import time', //                                  1
  '', //                                             2
  '', //                                             3
  'def init():', //                                  4
  '    global model', //                             5
  '    time.sleep(4)', //                            6
  '    model = {"ready": True}', //                  7  <- broken, fixed; breakpoint
  '', //                                             8
  '', //                                             9
  'def run(raw_data):', //                           10
  '    return {"model": model, "echo": raw_data}', // 11
  '',
].join('\n');
const INIT_LINE = 7;
const GOOD = 'model = {"ready": True}';
const BROKEN = 'raise FileNotFoundError("model.pkl is not in the model folder")';

/** The status bar item's classes: VS Code marks the warning and error backgrounds with *-kind. */
async function statusKind(s) {
  const cls = (await s.page.locator('.statusbar-item', { hasText: 'Scoring:' }).first().getAttribute('class').catch(() => '')) || '';
  return /warning-kind/.test(cls) ? 'warning' : /error-kind/.test(cls) ? 'error' : 'default';
}

/** The toasts on screen, whitespace folded. */
async function toasts(s) {
  return (await s.page.locator('.notifications-toasts .notification-toast').allInnerTexts().catch(() => [])).map((t) => t.replace(/\s+/g, ' ').trim());
}

/** Closes the problem's inline peek (opened by the status bar click), so later screenshots are clean. */
async function closePeek(t, s) {
  const open = async () => ({ ok: (await s.page.locator('.marker-widget').count()) === 0 });
  await s.page.keyboard.press('Escape');
  let closed = await t.pollUntil(open, 2000);
  if (!closed.ok) {
    // The keyboard focus was elsewhere (a toast, the panel): the peek's own close button.
    await s.page.locator('.peekview-actions .codicon-close').first().click().catch(() => undefined);
    closed = await t.pollUntil(open, 5000);
  }
  t.check('the problem peek closes', closed.ok);
}

/** Opens the palette on "Scoring Server", checks what it offers while stopped, screenshots it open. */
async function stoppedPalette(t, s, label) {
  await s.openPalette('Scoring Server');
  const rows = s.page.locator('.quick-input-list .monaco-list-row .label-name');
  const listed = await t.pollUntil(async () => {
    const labels = (await rows.allInnerTexts().catch(() => [])).map((x) => x.replace(/\s+/g, ' ').trim());
    return { ok: labels.some((l) => /Start Scoring Server/.test(l)), labels };
  }, 10000);
  await s.screenshot(label);
  await s.page.keyboard.press('Escape');
  const labels = listed.labels || [];
  t.check('stopped: the palette offers Start Scoring Server', listed.ok, JSON.stringify(labels));
  t.check('stopped: the palette has no Stop or Restart Scoring Server', !labels.some((l) => /(Stop|Restart) Scoring Server/.test(l)), JSON.stringify(labels));
}

async function stoppedAndStarting(t, s) {
  await s.openFile('score.py', 'def init');
  const stopped = await s.waitForStatus(/Scoring: stopped/);
  t.check('stopped: the status bar says so', stopped.ok, JSON.stringify(stopped.t));
  const lens = await t.pollUntil(async () => ({ ok: (await s.page.locator('.codelens-decoration', { hasText: 'Start' }).count()) > 0 }), 30000);
  t.check('stopped: a Start CodeLens above init()', lens.ok);
  await stoppedPalette(t, s, 'stopped-palette-at-first');
  await s.runCommand('AzureML Scoring: Start Scoring Server');
  const starting = await s.waitForStatus(/Scoring: starting: running init\(\)/, 60000);
  t.check('starting: the status bar says what the start does (running init())', starting.ok, JSON.stringify(starting.t));
  const toast = await t.pollUntil(async () => {
    const all = await toasts(s);
    return { ok: all.some((x) => /starting the server/.test(x) && /running init\(\)/.test(x)), all };
  }, 10000);
  t.check('starting: the progress notification says "running init()"', toast.ok, JSON.stringify(toast.all));
  await s.screenshot('starting');
}

async function running(t, s) {
  const up = await s.waitForStatus(/Scoring: running :\d+$/, 60000);
  t.check('running: the status bar says running :port', up.ok, JSON.stringify(up.t));
  const gone = await t.pollUntil(async () => {
    const all = await toasts(s);
    return { ok: !all.some((x) => /starting the server/.test(x)), all };
  }, 3000, 100);
  t.check('running: the start progress is gone (within 3 s of running)', gone.ok, JSON.stringify(gone.all));
  await s.screenshot('running');
}

async function reloadFailedThenReloaded(t, s) {
  t.check('init() broken and saved', await s.replaceLineAndSave(INIT_LINE, BROKEN));
  const failed = await s.waitForStatus(/Scoring: running :\d+, reload failed: init\(\) failed: FileNotFoundError: model\.pkl/, 60000);
  t.check('reload failed: "running :port, reload failed: init() failed: FileNotFoundError: ..."', failed.ok, JSON.stringify(failed.t));
  t.check('reload failed: in the warning colour', (await statusKind(s)) === 'warning', await statusKind(s));
  await s.showProblems();
  await t.pollUntil(async () => ({ ok: (await s.problems()).some((r) => /FileNotFoundError/.test(r)) }), 30000);
  await s.page.locator('.statusbar-item', { hasText: 'reload failed' }).first().click();
  const peek = await t.pollUntil(async () => ({ ok: (await s.page.locator('.marker-widget', { hasText: 'FileNotFoundError' }).count()) > 0 }), 10000);
  t.check('reload failed: a click on the status bar opens the problem at its line', peek.ok);
  await s.screenshot('reload-failed');
  await closePeek(t, s);
  t.check('init() fixed and saved', await s.replaceLineAndSave(INIT_LINE, GOOD));
  const reloaded = await s.waitForStatus(/Scoring: running :\d+, reloaded/, 60000);
  t.check('reloaded: shown once the fixed code serves', reloaded.ok, JSON.stringify(reloaded.t));
  await s.screenshot('reloaded');
  const back = await s.waitForStatus(/Scoring: running :\d+$/, 15000);
  t.check('reloaded: shown for a moment, then running again', back.ok, JSON.stringify(back.t));
}

/** Debug with a breakpoint in init(): while the debugger holds it there, the state is paused. */
async function pausedInInit(t, s) {
  await s.page.keyboard.press('Control+J'); // the panel away: room for the debugger's views
  await s.goToLine(INIT_LINE);
  await s.page.keyboard.press('F9');
  await s.runCommand('AzureML Scoring: Debug Scoring Server');
  const paused = await s.waitForStatus(/Scoring: paused in the debugger/, 120000);
  t.check('paused in init(): the status bar says "paused in the debugger", not waiting', paused.ok, JSON.stringify(paused.t));
  const stopped = await t.pollUntil(async () => {
    const frameLine = await s.page.locator('.monaco-editor .debug-top-stack-frame-line').count();
    const stack = ((await s.page.locator('.debug-call-stack').innerText().catch(() => '')) || '').replace(/\s+/g, ' ').trim();
    return { ok: frameLine > 0 && new RegExp(`init score\\.py ${INIT_LINE}:`).test(stack), stack: stack.slice(0, 160) };
  }, 30000);
  t.check(`paused in init(): the debugger is stopped at score.py:${INIT_LINE} in init()`, stopped.ok, JSON.stringify(stopped.stack));
  const toast = await toasts(s);
  t.check('paused in init(): the start progress says paused too', toast.some((x) => /paused in the debugger/.test(x)), JSON.stringify(toast));
  await s.screenshot('paused-in-init');
  await s.page.keyboard.press('F5'); // continue
  const dbg = await s.waitForStatus(/Scoring: running :\d+ \(debug\)/, 60000);
  t.check('after Continue: running (debug)', dbg.ok, JSON.stringify(dbg.t));
  await s.goToLine(INIT_LINE);
  await s.page.keyboard.press('F9'); // the breakpoint off again
  await s.page.keyboard.press('Control+Shift+E'); // back to the explorer
}

async function stoppedThenFailed(t, s) {
  await s.runCommand('AzureML Scoring: Stop Scoring Server');
  const stopped = await s.waitForStatus(/Scoring: stopped/, 30000);
  t.check('Stop: the status bar says stopped', stopped.ok, JSON.stringify(stopped.t));
  await stoppedPalette(t, s, 'stopped-palette');
  t.check('init() broken again and saved (no server: nothing starts)', await s.replaceLineAndSave(INIT_LINE, BROKEN));
  await s.runCommand('AzureML Scoring: Start Scoring Server');
  const failed = await s.waitForStatus(/Scoring: failed/, 60000);
  t.check('failed: the status bar says failed', failed.ok, JSON.stringify(failed.t));
  t.check('failed: in the error colour', (await statusKind(s)) === 'error', await statusKind(s));
  await s.showProblems();
  const toast = await t.pollUntil(async () => {
    const all = await toasts(s);
    return { ok: all.some((x) => /Scoring server failed: init\(\) failed: FileNotFoundError/.test(x)), all };
  }, 10000);
  t.check('failed: a notification says why, with Go to Error', toast.ok && toast.all.some((x) => /Go to Error/.test(x)), JSON.stringify(toast.all));
  await s.screenshot('failed');
}

/** The text of the output channel `name` as VS Code writes it to the session's logs. */
function channelText(s, name) {
  const walk = (d) => (fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)])) : []);
  const file = walk(path.join(s.dirs.userData, 'logs')).find((f) => path.basename(f).replace(/^\d+-/, '') === `${name}.log`);
  return file ? fs.readFileSync(file, 'utf8') : '';
}

/** The extension's log channel has levels and the LSP trace; the server's output has its own channel. */
async function outputChannels(t, s) {
  const log = await t.pollUntil(async () => {
    const text = channelText(s, 'AzureML Scoring');
    return { ok: /\[warning\] .*reload failed/.test(text) && /\[error\] Scoring server failed/.test(text) && /\[Trace - [^\]]+\] Sending request/.test(text), text };
  }, 15000);
  t.check('AzureML Scoring log channel: a failed reload at warning, a failed start at error, the LSP trace (trace.server)', log.ok, (log.text || '').split('\n').filter((l) => /\[(warning|error)\]/.test(l)).join(' | ').slice(0, 400));
  const server = channelText(s, 'AzureML Scoring Server');
  t.check('AzureML Scoring Server channel: the server\'s own output, apart', /(-m azmlinfsrv|launch\.py server) --entry_script/.test(server) && !/Sending request/.test(server), server.split('\n')[0]);
}

module.exports = {
  name: 'states',
  timeoutMs: 420000,
  async run(t) {
    const s = await t.open({
      files: { 'score.py': SCORE_PY, 'model/README.md': 'no model needed\n', 'sample-request.json': '{"name": "e2e"}\n' },
      // code-server's "your application on port 5001 is available" toasts would cover the state's own.
      settings: { 'remote.autoForwardPorts': false, 'azmlinfsrv.trace.server': 'messages' },
    });
    await stoppedAndStarting(t, s);
    await running(t, s);
    await reloadFailedThenReloaded(t, s);
    await pausedInInit(t, s);
    await stoppedThenFailed(t, s);
    await outputChannels(t, s);
  },
};
