// One VS Code window for one scenario, and the steps a user takes in it. openSession() lays out
// the workspace, installs the .vsix into a fresh code-server, opens the folder in Chromium and
// returns a Session; session.close() ends the browser and code-server and copies the logs.
'use strict';
const fs = require('fs');
const path = require('path');
const h = require('./harness');

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

class Session {
  constructor(name, dirs, codeServer, context, page) {
    this.name = name;
    this.dirs = dirs;
    this.workspace = dirs.workspace;
    this.codeServer = codeServer;
    this.url = codeServer.url;
    this.context = context;
    this.page = page;
    this.consoleErrors = [];
    this.shot = 0;
    page.on('pageerror', (e) => this.consoleErrors.push('pageerror: ' + e.message));
    page.on('console', (m) => m.type() === 'error' && this.consoleErrors.push(m.text()));
  }

  /** Saves a screenshot as OUT_DIR/<scenario>-<n>-<label>.png and returns its path. */
  async screenshot(label) {
    const file = path.join(h.OUT_DIR, `${this.name}-${++this.shot}-${label}.png`);
    await this.page.screenshot({ path: file });
    console.log(`  screenshot ${file}`);
    return file;
  }

  /** Opens a folder (default: the session's workspace) in the window and waits for the workbench. */
  async openFolder(folder = this.workspace) {
    await this.page.goto(this.url + '/?folder=' + encodeURIComponent(folder));
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  }

  /** Opens `file` (a name shown in the explorer) by clicking it; waits until its text shows `expect`. */
  async openFile(file, expect) {
    const row = this.page.locator('.explorer-folders-view .monaco-list-row', { hasText: file });
    await row.first().waitFor({ timeout: 60000 });
    await row.first().click();
    await this.tab(file).waitFor({ timeout: 20000 });
    if (expect) {
      await this.editor(expect).locator('.view-lines', { hasText: expect }).waitFor({ timeout: 20000 });
    }
  }

  tab(label) {
    return this.page.locator('.tabs-container .tab', { hasText: label }).first();
  }

  /** The editor whose text contains `text` (the first editor without it). */
  editor(text) {
    const all = this.page.locator('.editor-group-container .monaco-editor');
    return (text ? this.page.locator('.editor-group-container .monaco-editor', { hasText: text }) : all).first();
  }

  /** The status bar item of the extension, its text with whitespace folded. */
  async statusText() {
    const item = this.page.locator('.statusbar-item', { hasText: 'Scoring:' }).first();
    return ((await item.innerText().catch(() => '')) || '').replace(/\s+/g, ' ').trim();
  }

  /** Polls until the status bar text matches `re`; returns {ok, t}. */
  async waitForStatus(re, timeoutMs = 60000) {
    return h.pollUntil(async () => {
      const t = await this.statusText();
      return { ok: re.test(t), t };
    }, timeoutMs);
  }

  /** Clicks a tab, which activates its editor and gives it the keyboard focus. */
  async focusEditor(tabLabel = 'score.py') {
    await this.tab(tabLabel).click();
    await h.pollUntil(async () => ({ ok: await this.page.evaluate(() => !!document.activeElement && !!document.activeElement.closest('.monaco-editor')) }), 5000);
  }

  quickInput() {
    return this.page.locator('.quick-input-widget input[type="text"], .quick-input-widget .quick-input-box input').first();
  }

  /** Opens the command palette (F1) over the editor of `tabLabel` and types `text`. */
  async openPalette(text, tabLabel = 'score.py') {
    await this.focusEditor(tabLabel);
    await this.page.keyboard.press('F1');
    await this.quickInput().waitFor({ state: 'visible', timeout: 10000 });
    await this.page.keyboard.type(text, { delay: 10 });
  }

  /** The labels the palette lists for `text` (e.g. to check a command is not offered). */
  async paletteLabels(text, tabLabel = 'score.py') {
    await this.openPalette(text, tabLabel);
    const rows = this.page.locator('.quick-input-list .monaco-list-row .label-name');
    await h.pollUntil(async () => ({ ok: (await rows.count()) > 0 }), 5000);
    const labels = (await rows.allInnerTexts().catch(() => [])).map((t) => t.replace(/\s+/g, ' ').trim());
    await this.page.keyboard.press('Escape');
    return labels;
  }

  /** Runs a palette command by its exact title (fuzzy ranking may focus another row first). */
  async runCommand(title, tabLabel = 'score.py') {
    await this.openPalette(title, tabLabel);
    const exact = new RegExp(`^\\s*${escapeRe(title)}\\s*$`);
    const row = this.page.locator('.quick-input-list .monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: exact }) }).first();
    await row.waitFor({ timeout: 15000 });
    await row.click();
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10000 });
  }

  async goToLine(n, tabLabel = 'score.py') {
    await this.focusEditor(tabLabel);
    await this.page.keyboard.press('Control+G');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'visible', timeout: 10000 });
    await this.page.keyboard.type(String(n), { delay: 10 });
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10000 });
  }

  /** Replaces line n's text after its indentation in `file` (workspace-relative), saves, waits for the disk. */
  async replaceLineAndSave(n, text, file = 'score.py') {
    await this.goToLine(n, path.basename(file));
    await this.page.keyboard.press('End');
    await this.page.keyboard.press('Shift+Home');
    await this.page.keyboard.type(text, { delay: 5 });
    await this.page.keyboard.press('Control+S');
    const onDisk = path.join(this.workspace, file);
    const saved = await h.pollUntil(async () => ({ ok: fs.readFileSync(onDisk, 'utf8').split('\n')[n - 1].trim() === text }), 10000);
    return saved.ok;
  }

  /** Opens the Problems panel (Ctrl+Shift+M) if it is not shown. */
  async showProblems() {
    if ((await this.page.locator('.markers-panel').count()) === 0 || !(await this.page.locator('.markers-panel').isVisible())) {
      await this.page.keyboard.press('Control+Shift+M');
    }
    await this.page.locator('.markers-panel').waitFor({ timeout: 15000 }).catch(() => undefined);
  }

  /** The rows of the Problems panel, whitespace folded. */
  async problems() {
    return (await this.page.locator('.markers-panel .monaco-list-row').allInnerTexts().catch(() => [])).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /** The active webview's content frame (the Send Sample Request panel). */
  webview() {
    return this.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  }

  /** Our daemon/server processes (command line or cwd under this session's temp root). */
  processes() {
    return h.processesUnder(this.dirs.tmpRoot);
  }

  /** Those of the processes that are a scoring server: through the .vsix's launcher, `-m azmlinfsrv`, or gunicorn's. */
  serverProcesses() {
    return this.processes().filter((p) => /launch\.py server|-m azmlinfsrv --|gunicorn/.test(p.cmd));
  }

  async close() {
    fs.writeFileSync(path.join(h.OUT_DIR, `${this.name}-browser-console-errors.txt`), this.consoleErrors.join('\n'));
    await this.context.close().catch(() => undefined);
    h.stopGroup(this.codeServer.child);
    copyLogs(this.name, this.dirs);
  }
}

/** Keeps the extension's output channels and the extension host log next to the screenshots. */
function copyLogs(name, dirs) {
  const walk = (d) => (fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)])) : []);
  for (const f of walk(path.join(dirs.userData, 'logs')).filter((f) => /AzureML Scoring|azmlinfsrv|exthost\.log$/.test(path.basename(f)))) {
    fs.copyFileSync(f, path.join(h.OUT_DIR, `${name}-` + path.basename(f).replace(/^\d+-/, '').replace(/\s+/g, '-')));
  }
}

/**
 * Lays out a workspace and opens it in a fresh code-server with the .vsix installed.
 * options: files {relative path: content} of the workspace; settings (merged over the base user
 * settings); python (the interpreter for azmlinfsrv.pythonPath, default PYTHON); env (variables
 * over the environment of code-server, hence of the extension, its daemon and the browser).
 */
async function openSession(name, options = {}) {
  const dirs = h.prepareRoot(name);
  Object.assign(dirs.env, options.env || {});
  h.writeFiles(dirs.workspace, options.files || {});
  const settings = { ...h.baseSettings(options.python || h.PYTHON), ...(options.settings || {}) };
  fs.writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const codeServer = await h.startCodeServer(dirs, path.join(h.OUT_DIR, `${name}-code-server.log`));
  let context;
  try {
    context = await h.launchBrowser(dirs);
  } catch (e) {
    h.stopGroup(codeServer.child);
    throw e;
  }
  const page = context.pages()[0] || (await context.newPage());
  const session = new Session(name, dirs, codeServer, context, page);
  h.mark(`${name}: code-server at ${codeServer.url}, workspace ${dirs.workspace}`);
  await session.openFolder();
  return session;
}

module.exports = { openSession, Session };
