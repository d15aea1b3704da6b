// What every e2e scenario needs: a temp folder, code-server (a real VS Code 1.100.3) with the
// .vsix installed like a user would, headless Debian Chromium driven by Playwright, and the
// small steps a user takes (palette commands, edits and saves, the status bar, Problems).
// A scenario gets one `Session` (see openSession) and uses its helpers; the runner (e2e.js)
// closes it, checks that nothing it started is left, and counts the checks.
// Poll, never sleep-as-sync; what we start is stopped by process group at the end.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');

const REPO = path.resolve(__dirname, '..', '..');
const CACHE = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
const CODE_SERVER = process.env.CODE_SERVER || path.join(CACHE, 'azmlinfsrv-e2e/code-server/node_modules/code-server/out/node/entry.js');
const VSIX = path.resolve(process.env.VSIX || path.join(REPO, 'azmlinfsrv.vsix'));
const PYTHON = process.env.PYTHON || path.join(REPO, '.venv', 'bin', 'python');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT_DIR = path.resolve(process.env.OUT_DIR || path.join(REPO, 'out', 'e2e'));

const T0 = Date.now();
let lastMark = T0;
/** Prints a timestamped progress line (the e2e's log reads as a timeline). */
function mark(label) {
  const now = Date.now();
  console.log(`[${((now - T0) / 1000).toFixed(1)}s] ${label} (+${now - lastMark} ms)`);
  lastMark = now;
}

const results = [];
let currentScenario = '';
/** Records one check; the run fails if any check failed. Returns `ok` so callers can stop early. */
function check(name, ok, detail) {
  const label = currentScenario ? `[${currentScenario}] ${name}` : name;
  results.push({ name: label, ok: !!ok });
  console.log(`${ok ? 'PASS' : 'FAIL'}: ${label}${detail !== undefined ? ' -- ' + detail : ''}`);
  return !!ok;
}
function setScenario(name) {
  currentScenario = name;
}

/** Calls fn until it returns {ok: true} or timeoutMs passes; returns the last result. */
async function pollUntil(fn, timeoutMs = 15000, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  let last = await fn();
  while (!last.ok && Date.now() < end) {
    await new Promise((r) => setTimeout(r, everyMs));
    last = await fn();
  }
  return last;
}

/** Processes whose command line or cwd mentions `root` and that look like ours (daemon, server, workers). */
function processesUnder(root) {
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
      const mentionsUs = root && (cmd.includes(root) || cwd.startsWith(root));
      // Python processes only (or gunicorn's retitled ones): code-server's own command lines
      // (node, and the ripgrep that looks for *.py files in the workspace) name our paths too.
      const isPython = /^(\S*\/)?python[\d.]*\s/.test(cmd) || /^gunicorn:/.test(cmd);
      if (mentionsUs && isPython && /azmlinfsrv|gunicorn|lsp_server/.test(cmd)) {
        out.push({ pid: Number(d), cmd: cmd.slice(0, 200) });
      }
    } catch {
      /* gone */
    }
  }
  return out;
}

/** User settings every scenario starts from: a quiet VS Code, and our interpreter setting. */
function baseSettings(python) {
  return {
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
    // No Python extension in tests: the interpreter comes from our setting.
    'azmlinfsrv.pythonPath': python,
  };
}

/** Writes `files` ({relative path: text or Buffer}) under dir. */
function writeFiles(dir, files) {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}

/** Folders of one session, all under a fresh temp root (XDG and TMPDIR too, so nothing leaks out). */
function prepareRoot(name) {
  const tmpRoot = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `azml-e2e-${name}-`)));
  const dirs = {
    tmpRoot,
    userData: path.join(tmpRoot, 'user-data'),
    extensions: path.join(tmpRoot, 'extensions'),
    workspace: path.join(tmpRoot, 'workspace'),
    browserProfile: path.join(tmpRoot, 'chromium-profile'),
  };
  for (const d of Object.values(dirs)) {
    fs.mkdirSync(d, { recursive: true });
  }
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  dirs.env = {};
  for (const [k, d] of [['TMPDIR', 'tmp'], ['XDG_DATA_HOME', 'xdg-data'], ['XDG_CACHE_HOME', 'xdg-cache'], ['XDG_CONFIG_HOME', 'xdg-config']]) {
    dirs.env[k] = path.join(tmpRoot, d);
    fs.mkdirSync(dirs.env[k], { recursive: true });
  }
  return dirs;
}

// Every code-server we start, stopped when this process ends however it ends.
const started = new Set();
process.on('exit', () => started.forEach(stopGroup));
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => process.exit(130));
}

/** code-server with the .vsix installed; resolves to {child, url}. The child leads its own process group. */
async function startCodeServer(dirs, logFile) {
  const configYaml = path.join(dirs.tmpRoot, 'config.yaml');
  fs.writeFileSync(configYaml, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');
  const csArgs = ['--config', configYaml, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
  const env = { ...process.env, ...dirs.env };
  const inst = cp.spawnSync(process.execPath, [CODE_SERVER, ...csArgs, '--install-extension', VSIX], { encoding: 'utf8', env });
  check('code-server --install-extension azmlinfsrv.vsix', inst.status === 0 && /successfully installed/.test(inst.stdout), (inst.stdout + inst.stderr).trim().split('\n').pop());
  const flags = ['--bind-addr', '127.0.0.1:0', '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override'];
  const child = cp.spawn(process.execPath, [CODE_SERVER, ...csArgs, ...flags, dirs.workspace], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  const log = fs.createWriteStream(logFile);
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d) => {
      log.write(d);
      buf += d.toString();
      const m = buf.match(/HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (c) => reject(new Error('code-server exited early rc=' + c + '\n' + buf)));
    setTimeout(() => reject(new Error('code-server did not start in 30s\n' + buf)), 30000);
  });
  return { child, url };
}

/** Stops a process group we started (code-server and what it spawned). */
function stopGroup(child) {
  if (!child || child.exitCode !== null) {
    return;
  }
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    try {
      child.kill('SIGTERM');
    } catch {
      /* gone */
    }
  }
}

async function launchBrowser(dirs) {
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch {
    throw new Error('playwright-core not found: run npm ci');
  }
  return chromium.launchPersistentContext(dirs.browserProfile, {
    executablePath: CHROMIUM,
    env: { ...process.env, ...dirs.env },
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

module.exports = {
  REPO,
  CODE_SERVER,
  VSIX,
  PYTHON,
  CHROMIUM,
  OUT_DIR,
  mark,
  check,
  setScenario,
  results,
  pollUntil,
  processesUnder,
  baseSettings,
  writeFiles,
  prepareRoot,
  startCodeServer,
  stopGroup,
  launchBrowser,
};
