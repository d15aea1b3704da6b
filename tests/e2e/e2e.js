#!/usr/bin/env node
// End-to-end tests of the AzureML Scoring extension in a real VS Code (code-server 4.100.3 =
// VS Code 1.100.3), driven by Playwright in headless Debian Chromium, as a user would.
// Each file of scenarios/ is one scenario: `module.exports = { name, timeoutMs?, run(t) }`, where
// `t.open(options)` gives a Session (session.js) in a fresh code-server and temp folder, and
// t.check / t.pollUntil / t.mark come from harness.js. Scenarios run one after another; after
// each, the runner closes its sessions and checks that no daemon or server process is left.
// code-server comes from ./setup-code-server.sh.
//
// Env (all optional):
//   E2E_ONLY     comma-separated scenario names to run (default: all, in file-name order)
//   VSIX         the package to install        (default <repo>/azmlinfsrv.vsix: `npm run package`)
//   PYTHON       interpreter for azmlinfsrv.pythonPath (default <repo>/.venv/bin/python)
//   CODE_SERVER  code-server's out/node/entry.js (default: where setup-code-server.sh puts it)
//   CHROMIUM     browser executable             (default /usr/bin/chromium)
//   OUT_DIR      screenshots + logs             (default <repo>/out/e2e)
//   E2E_TIMEOUT_MS watchdog of one scenario     (default: the scenario's timeoutMs, else 420000)
//   KEEP_TMP=1   keep the temp folders
'use strict';
const fs = require('fs');
const path = require('path');
const h = require('./harness');
const { openSession } = require('./session');

const SCENARIOS = path.join(__dirname, 'scenarios');

function selectedScenarios() {
  const only = (process.env.E2E_ONLY || '').split(',').map((s) => s.trim()).filter(Boolean);
  const all = fs.readdirSync(SCENARIOS).filter((f) => f.endsWith('.js')).sort().map((f) => require(path.join(SCENARIOS, f)));
  const unknown = only.filter((n) => !all.some((s) => s.name === n));
  if (unknown.length) {
    throw new Error(`E2E_ONLY names no scenario: ${unknown.join(', ')} (have: ${all.map((s) => s.name).join(', ')})`);
  }
  return only.length ? all.filter((s) => only.includes(s.name)) : all;
}

/** Checks the prerequisites once; false stops the run (each failed one is a FAIL line). */
function preflight() {
  const cp = require('child_process');
  if (!h.check('VSIX exists (npm run package)', fs.existsSync(h.VSIX), h.VSIX)) {
    return false;
  }
  const imp = cp.spawnSync(h.PYTHON, ['-c', 'import sys; print(sys.version)'], { encoding: 'utf8' });
  if (!h.check(`the interpreter ${h.PYTHON} runs`, imp.status === 0, (imp.stderr || imp.stdout || '').trim().split('\n').pop())) {
    return false;
  }
  return h.check('code-server installed (tests/e2e/setup-code-server.sh)', fs.existsSync(h.CODE_SERVER), h.CODE_SERVER);
}

/** Ends the scenario's sessions, then checks (and reports) any of our processes left behind. */
async function teardown(scenario, sessions) {
  for (const s of sessions) {
    await s.close().catch((e) => console.log(`  closing ${s.name}: ${e}`));
  }
  for (const s of sessions) {
    const left = await h.pollUntil(async () => {
      const p = s.processes();
      return { ok: p.length === 0, p };
    }, 15000);
    h.check('no daemon/server process left after VS Code exits', left.ok, JSON.stringify(left.p));
    for (const p of left.p || []) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (process.env.KEEP_TMP !== '1') {
      fs.rmSync(s.dirs.tmpRoot, { recursive: true, force: true });
    }
  }
}

async function runScenario(scenario) {
  h.setScenario(scenario.name);
  h.mark(`scenario ${scenario.name}`);
  const sessions = [];
  const t = {
    open: async (options) => {
      const s = await openSession(sessions.length ? `${scenario.name}${sessions.length + 1}` : scenario.name, options);
      sessions.push(s);
      return s;
    },
    check: h.check,
    pollUntil: h.pollUntil,
    mark: h.mark,
    PYTHON: h.PYTHON,
    REPO: h.REPO,
    OUT_DIR: h.OUT_DIR,
  };
  const limit = Number(process.env.E2E_TIMEOUT_MS || scenario.timeoutMs || 420000);
  let timer;
  const watchdog = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`watchdog: scenario exceeded ${limit} ms`)), limit);
  });
  try {
    await Promise.race([scenario.run(t), watchdog]);
  } catch (e) {
    h.check('scenario completed without exception', false, e.stack || String(e));
    const page = sessions.length && sessions[sessions.length - 1].page;
    if (page) {
      const file = path.join(h.OUT_DIR, `${scenario.name}-failure.png`);
      await page.screenshot({ path: file }).then(() => console.log(`  screenshot ${file}`), () => undefined);
    }
  } finally {
    clearTimeout(timer);
    await teardown(scenario, sessions);
    h.mark(`scenario ${scenario.name} done`);
  }
}

async function main() {
  fs.mkdirSync(h.OUT_DIR, { recursive: true });
  for (const f of fs.readdirSync(h.OUT_DIR).filter((f) => /\.(png|log|txt)$/.test(f))) {
    fs.rmSync(path.join(h.OUT_DIR, f));
  }
  console.log(`screenshots and logs: ${h.OUT_DIR}`);
  const scenarios = selectedScenarios();
  if (preflight()) {
    for (const scenario of scenarios) {
      await runScenario(scenario);
    }
  }
  h.setScenario('');
  const passed = h.results.filter((r) => r.ok).length;
  const failed = h.results.length - passed;
  for (const r of h.results.filter((r) => !r.ok)) {
    console.log(`failed: ${r.name}`);
  }
  console.log(`total e2e wall time: ${(process.uptime()).toFixed(1)} s; screenshots and logs: ${h.OUT_DIR}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(2);
});
