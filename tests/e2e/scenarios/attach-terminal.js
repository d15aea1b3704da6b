// Issue 9: attach to a server started by hand in a terminal, with no gdb on PATH. The user runs
// `azmlinfsrv --entry_script score.py --reload` (here: spawned as a plain process, its own process
// group, stopped by its pid at the end), sets a breakpoint in run(), runs "Attach Debugger to
// Scoring Server" and picks that server: a request stops in run(). An edit and save reloads the
// server (new worker process): the extension re-attaches and the next request stops again there.
'use strict';
const cp = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');

const SCORE_PY = [
  'import os', //                                        1
  '', //                                                 2
  '', //                                                 3
  'def init():', //                                      4
  '    pass', //                                         5
  '', //                                                 6
  '', //                                                 7
  'def run(raw_data):', //                               8
  '    worker = os.getpid()', //                         9
  '    reply = {"worker": worker, "generation": 1}', //  10 <- breakpoint; edited to generation 2
  '    return reply', //                                 11
  '',
].join('\n');
const BREAK_LINE = 10;

/** PATH without gdb: the venv's scripts (azmlinfsrv), nothing else (code-server runs node by its path). */
function gdblessPath(python) {
  const dirs = [path.dirname(python)];
  return { value: dirs.join(path.delimiter), gdb: dirs.filter((d) => fs.existsSync(path.join(d, 'gdb'))) };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** One HTTP request; resolves {status, body} (or {status: 0, error}); no timeout: run() may be paused. */
function request(port, method, urlPath, body) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', (e) => resolve({ status: 0, error: String(e) }));
    req.end(body);
  });
}

/** `azmlinfsrv --entry_script score.py --reload` in the workspace, as typed in a terminal. */
function startByHand(t, s, port, PATH) {
  const log = fs.openSync(path.join(t.OUT_DIR, 'attach-terminal-server.log'), 'w');
  const argv = ['--entry_script', 'score.py', '--reload', '--port', String(port), '--host', '127.0.0.1'];
  const env = { ...process.env, ...s.dirs.env, PATH };
  const child = cp.spawn(path.join(path.dirname(t.PYTHON), 'azmlinfsrv'), argv, { cwd: s.workspace, env, detached: true, stdio: ['ignore', log, log] });
  t.mark(`azmlinfsrv started by hand: pid ${child.pid}, port ${port}`);
  return child;
}

/** SIGTERM to its process group (the arbiter and its workers), SIGKILL if still there after 10 s. */
async function stopByPid(t, child) {
  const signal = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      /* gone */
    }
  };
  if (child.exitCode === null && child.signalCode === null) {
    signal('SIGTERM');
    await t.pollUntil(async () => ({ ok: child.exitCode !== null || child.signalCode !== null }), 10000);
  }
  signal('SIGKILL');
}

async function attachByCommand(t, s, pid) {
  await s.runCommand('AzureML Scoring: Attach Debugger to Scoring Server');
  const row = s.page.locator('.quick-input-list .monaco-list-row', { hasText: `azmlinfsrv PID ${pid}` }).first();
  const offered = await row.waitFor({ timeout: 60000 }).then(
    () => true,
    () => false,
  );
  t.check('Attach offers the server started in the terminal', offered);
  await row.click();
  const session = await t.pollUntil(async () => ({ ok: (await s.page.locator('.debug-toolbar').count()) > 0 }), 60000);
  t.check('a debug session is active (debug toolbar)', session.ok);
}

/** Sends a request; when it stops at the breakpoint, continues. Returns {hit, answer}. */
async function requestThroughBreakpoint(t, s, port, waitMs, shot) {
  const pending = request(port, 'POST', '/score', '{}');
  const stopped = await t.pollUntil(async () => {
    const frameLine = await s.page.locator('.monaco-editor .debug-top-stack-frame-line').count();
    const stack = ((await s.page.locator('.debug-call-stack').innerText().catch(() => '')) || '').replace(/\s+/g, ' ').trim();
    return { ok: frameLine > 0 && new RegExp(`^run score\\.py ${BREAK_LINE}:`).test(stack), stack: stack.slice(0, 200) };
  }, waitMs);
  if (stopped.ok) {
    await s.screenshot(shot);
    await s.page.keyboard.press('F5');
  }
  const answer = await pending;
  return { hit: stopped.ok, stack: stopped.stack, answer };
}

/** After the save, the new worker serves; the extension attaches to it once the old one exits. */
async function hitAgainAfterReload(t, s, port, firstWorker) {
  let last = {};
  const deadline = Date.now() + 120000;
  while (Date.now() < deadline) {
    last = await requestThroughBreakpoint(t, s, port, 10000, 'stopped-after-the-edit');
    const reply = last.answer.status === 200 ? JSON.parse(last.answer.body) : {};
    last.reply = reply;
    if (last.hit && reply.generation === 2 && reply.worker !== firstWorker) {
      break;
    }
  }
  const ok = last.hit && last.reply && last.reply.generation === 2 && last.reply.worker !== firstWorker;
  t.check('after the edit and reload the debugger stops in run() again, in the new worker', ok, JSON.stringify({ hit: last.hit, reply: last.reply, first: firstWorker }));
}

module.exports = {
  name: 'attach-terminal',
  timeoutMs: 420000,
  async run(t) {
    const PATH = gdblessPath(t.PYTHON);
    t.check('gdb is absent from the PATH of the hand-started server and of VS Code (so of the daemon)', PATH.gdb.length === 0, PATH.value);
    const s = await t.open({ files: { 'score.py': SCORE_PY }, env: { PATH: PATH.value } });
    const port = await freePort();
    const server = startByHand(t, s, port, PATH.value);
    try {
      const up = await t.pollUntil(async () => ({ ok: (await request(port, 'GET', '/')).status === 200 }), 90000);
      t.check('the hand-started server answers', up.ok);
      await s.openFile('score.py', 'def init');
      await s.waitForStatus(/Scoring: stopped/);
      await s.goToLine(BREAK_LINE);
      await s.page.keyboard.press('F9');
      const bp = await t.pollUntil(async () => ({ ok: (await s.editor('def init').locator('.codicon-debug-breakpoint').count()) > 0 }), 10000);
      t.check(`breakpoint set on line ${BREAK_LINE}`, bp.ok);

      await attachByCommand(t, s, server.pid);
      const first = await requestThroughBreakpoint(t, s, port, 60000, 'stopped-in-run');
      t.check(`the debugger stops at the breakpoint in run() (score.py:${BREAK_LINE})`, first.hit, JSON.stringify(first.stack));
      t.check('after Continue the request answers 200', first.answer.status === 200, JSON.stringify(first.answer));
      const firstWorker = first.answer.status === 200 ? JSON.parse(first.answer.body).worker : undefined;

      t.check('run() edited and saved', await s.replaceLineAndSave(BREAK_LINE, 'reply = {"worker": worker, "generation": 2}'));
      await hitAgainAfterReload(t, s, port, firstWorker);
    } finally {
      await stopByPid(t, server);
      const gone = await t.pollUntil(async () => ({ ok: s.processes().length === 0 || !s.processes().some((p) => /azmlinfsrv --entry_script/.test(p.cmd)) }), 15000);
      t.check('the hand-started server is stopped by its pid', gone.ok);
    }
  },
};
