/**
 * The Send Sample Request page in headless Debian Chromium (playwright-core, executablePath):
 * the real HTML from renderPanelHtml() with its real CSP, media/request.js and request.css served
 * from a local origin (as VS Code serves them from its webview resource origin), and a stub of
 * acquireVsCodeApi() that records what the page posts. Prints "N passed, N failed".
 *
 * Env: CHROMIUM (default /usr/bin/chromium).
 */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { AddressInfo } from 'net';
import { chromium, Page } from 'playwright-core';
import { renderPanelHtml } from '../../../extension/src/panelHtml';
import { toResponseView } from '../../../extension/src/responseView';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const MEDIA = path.join(REPO, 'extension', 'media');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const results: { name: string; ok: boolean }[] = [];
function check(name: string, ok: boolean, detail?: unknown): void {
  results.push({ name, ok });
  console.log(`${ok ? 'PASS' : 'FAIL'}: ${name}${detail !== undefined ? ` -- ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`);
}
async function poll<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  let v = await fn();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    v = await fn();
  }
  return v;
}

// Runs before the page's own scripts (CDP, not subject to the page's CSP), like VS Code's preload.
const STUB = `
  window.__posted = [];
  window.__violations = [];
  window.__state = JSON.parse(sessionStorage.getItem('state') || 'null');
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
    getState: () => window.__state,
    setState: (s) => { window.__state = s; sessionStorage.setItem('state', JSON.stringify(s)); },
  });
`;

async function main(): Promise<void> {
  let html = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (url.pathname === '/panel.html') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(html);
      return;
    }
    const file = path.join(MEDIA, path.basename(url.pathname));
    if (url.pathname.startsWith('/media/') && fs.existsSync(file)) {
      res.writeHead(200, { 'Content-Type': file.endsWith('.js') ? 'text/javascript' : 'text/css' });
      res.end(fs.readFileSync(file));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  html = renderPanelHtml({ cspSource: origin, nonce: 'n0nce4test', scriptUri: `${origin}/media/request.js`, styleUri: `${origin}/media/request.css` });

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'azml-webview-chromium-'));
  // A fresh profile (the persistent context owns --user-data-dir).
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 900, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const errors: string[] = [];
  try {
    await ctx.addInitScript(STUB);
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${origin}/panel.html`);
    await run(page, origin);
    // The one inline script this test injects on purpose is the only violation allowed.
    const unexpected = errors.filter((e) => !/^Executing inline script violates/.test(e));
    check('no CSP violation and no script error from the page itself', unexpected.length === 0 && errors.length === 1, errors);
  } finally {
    await ctx.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

const posted = (page: Page) => page.evaluate(() => (window as unknown as { __posted: { type: string; request?: Record<string, unknown> }[] }).__posted);
const send = (page: Page, m: unknown) => page.evaluate((msg) => window.postMessage(msg, '*'), m);
const text = (page: Page, sel: string) => page.locator(sel).innerText();

async function run(page: Page, origin: string): Promise<void> {
  const ready = await poll(() => posted(page), (p) => p.some((m) => m.type === 'ready'));
  check('page posts "ready" once its script runs (external script with the nonce)', ready.some((m) => m.type === 'ready'));

  const scriptBlocked = await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.body.appendChild(s);
    return !(window as unknown as { __inlineRan?: boolean }).__inlineRan;
  });
  check('CSP blocks an inline script', scriptBlocked);
  const violations = await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations.splice(0));
  check('the blocked inline script is reported as a script-src violation', violations.some((v) => v.startsWith('script-src')), violations);
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  check('CSP allows only the extension origin, data: images and the nonce', csp === `default-src 'none'; img-src ${origin} data:; style-src ${origin}; font-src ${origin}; script-src 'nonce-n0nce4test'; base-uri 'none'; form-action 'none'`, csp);

  // init fills the form
  await send(page, {
    type: 'init',
    target: 'http://127.0.0.1:5001',
    source: 'Prefilled from examples/hello/sample-request.json',
    request: { method: 'POST', path: '/score', headersText: 'Content-Type: application/json', body: '{\n  "name": "world"\n}' },
    history: [],
  });
  const form = await poll(
    () => page.evaluate(() => ({ method: (document.getElementById('method') as HTMLSelectElement).value, path: (document.getElementById('path') as HTMLInputElement).value, headers: (document.getElementById('headers') as HTMLTextAreaElement).value, body: (document.getElementById('body') as HTMLTextAreaElement).value })),
    (f) => f.body.includes('world'),
  );
  check('init prefills method, path, headers and body', form.method === 'POST' && form.path === '/score' && form.headers === 'Content-Type: application/json' && form.body === '{\n  "name": "world"\n}', form);
  check('init shows the target and the source of the sample', (await text(page, '#target')) === 'http://127.0.0.1:5001' && /hello\/sample-request\.json/.test(await text(page, '#source')));
  check('history is hidden while empty', await page.locator('#history-section').isHidden());

  // theme variables
  await page.evaluate(() => document.documentElement.style.setProperty('--vscode-button-background', 'rgb(1, 2, 3)'));
  const bg = await page.locator('#send').evaluate((e) => getComputedStyle(e).backgroundColor);
  check('buttons take their colours from VS Code theme variables', bg === 'rgb(1, 2, 3)', bg);

  // edit + send
  await page.locator('#path').fill('/score?verbose=1');
  await page.locator('#send').click();
  const sent = (await posted(page)).filter((m) => m.type === 'send').at(-1);
  check('Send posts the edited request to the extension', !!sent && sent.request?.path === '/score?verbose=1' && sent.request?.method === 'POST' && sent.request?.body === '{\n  "name": "world"\n}' && sent.request?.bodyFile === undefined, sent);
  await send(page, { type: 'sending' });
  const sending = await poll(() => page.locator('#send').isDisabled(), (d) => d);
  check('Send is disabled while the request is in flight', sending && (await text(page, '#send')) === 'Sending…');

  // JSON response
  const jsonView = toResponseView({ status: 200, headers: { 'Content-Type': 'application/json', 'x-ms-request-id': 'abc' }, body: '{"message":"Hello, world!"}', isBase64: false, elapsedMs: 12.2 });
  await send(page, { type: 'response', view: jsonView });
  await poll(() => page.locator('#response').isVisible(), (v) => v);
  const status = await text(page, '#status');
  const statusClass = await page.locator('#status').getAttribute('class');
  check('response shows status and reason, green for 2xx', status === '200 OK' && /\bok\b/.test(statusClass ?? ''), { status, statusClass });
  check('response shows elapsed ms and size', (await text(page, '#elapsed')) === '12 ms' && (await text(page, '#size')) === '27 B');
  check('response body is pretty-printed', (await text(page, '#response-body')) === '{\n  "message": "Hello, world!"\n}', await text(page, '#response-body'));
  const headerRows = await page.locator('#response-headers tr').allTextContents();
  check('response headers listed', headerRows.length === 2 && headerRows[1].includes('x-ms-request-id') && (await text(page, '#response-headers-summary')) === 'Headers (2)', headerRows);
  check('Send is enabled again', await page.locator('#send').isEnabled());

  // image response
  const png = fs.readFileSync(path.join(REPO, 'examples', 'rawhttp-image', 'sample.png')).toString('base64');
  await send(page, { type: 'response', view: toResponseView({ status: 200, headers: { 'Content-Type': 'image/png' }, body: png, isBase64: true, elapsedMs: 30 }) });
  const img = await poll(
    () => page.locator('#response-image').evaluate((e: HTMLImageElement) => ({ visible: !e.hidden, w: e.naturalWidth, h: e.naturalHeight, src: e.src.slice(0, 22) })),
    (i) => i.w > 0,
  );
  check('image responses are rendered (data: image allowed by the CSP)', img.visible && img.w === 96 && img.h === 64 && img.src === 'data:image/png;base64,', img);
  check('the text body is hidden for an image', await page.locator('#response-body').isHidden());

  // large body: truncated with a note
  const big = JSON.stringify({ data: 'x'.repeat(300_000) });
  await send(page, { type: 'response', view: toResponseView({ status: 200, headers: { 'Content-Type': 'application/json' }, body: big, isBase64: false, elapsedMs: 5 }) });
  const note = await poll(() => page.locator('#truncated-note').innerText().catch(() => ''), (t) => t.length > 0);
  const shown = (await text(page, '#response-body')).length;
  check('large bodies are truncated with a note', /truncated/i.test(note) && shown <= 100_001, { note, shown });
  await send(page, { type: 'response', view: toResponseView({ status: 500, headers: { 'Content-Type': 'application/json' }, body: '{"message":"boom"}', isBase64: false, elapsedMs: 5 }) });
  await poll(() => text(page, '#status'), (s) => s.startsWith('500'));
  check('a 5xx is shown as a failure without the truncation note', /\bfail\b/.test((await page.locator('#status').getAttribute('class')) ?? '') && (await page.locator('#truncated-note').isHidden()));

  // error
  await send(page, { type: 'error', message: 'The scoring server is not running.' });
  const err = await poll(() => page.locator('#error').innerText().catch(() => ''), (t) => t.length > 0);
  check('errors are shown in an alert', err === 'The scoring server is not running.' && (await page.locator('#error').getAttribute('role')) === 'alert', err);

  // history
  await send(page, {
    type: 'history',
    history: [
      { method: 'GET', path: '/score?name=x', headers: {}, headersText: '', body: '', time: '2024-01-01T00:00:00Z', status: 200, label: 'GET /score?name=x → 200' },
      { method: 'POST', path: '/score', headers: { A: '1' }, headersText: 'A: 1', body: '{"a": 1}', time: '2024-01-01T00:00:00Z', label: 'POST /score' },
    ],
  });
  await poll(() => page.locator('#history-section').isVisible(), (v) => v);
  check('history lists previous requests', (await page.locator('#history option').allInnerTexts()).join('|') === '2 previous requests…|GET /score?name=x → 200|POST /score');
  await page.locator('#history').selectOption('1');
  const restored = await page.evaluate(() => ({ method: (document.getElementById('method') as HTMLSelectElement).value, headers: (document.getElementById('headers') as HTMLTextAreaElement).value, body: (document.getElementById('body') as HTMLTextAreaElement).value }));
  check('picking a history entry fills the form', restored.method === 'POST' && restored.headers === 'A: 1' && restored.body === '{"a": 1}', restored);

  // JSON validation and formatting
  await page.locator('#body').fill('{"a": ');
  const warn = await poll(() => page.locator('#body-error').innerText().catch(() => ''), (t) => t.length > 0);
  check('an invalid JSON body is flagged (but can still be sent)', /Not valid JSON/.test(warn), warn);
  await page.locator('#body').fill('{"a":[1,2]}');
  await page.locator('#format-body').click();
  check('Format JSON pretty-prints the body', (await page.locator('#body').inputValue()) === '{\n  "a": [\n    1,\n    2\n  ]\n}' && (await page.locator('#body-error').isHidden()));

  // Copy as curl
  await page.locator('#copy-curl').click();
  const curl = (await posted(page)).filter((m) => m.type === 'copyCurl').at(-1);
  check('Copy as curl asks the extension with the current request', !!curl && curl.request?.body === '{\n  "a": [\n    1,\n    2\n  ]\n}', curl);

  // binary body file
  await send(page, {
    type: 'init',
    source: 'Prefilled from rawhttp-image/sample-request.json',
    bodyFileNote: 'Body: the bytes of rawhttp-image/sample.png (1.2 KB)',
    request: { method: 'POST', path: '/score', headersText: 'Content-Type: image/png', body: '', bodyFile: '/w/sample.png' },
    history: [],
  });
  await poll(() => page.locator('#body-file').isVisible(), (v) => v);
  check('a binary sample shows the file instead of the text editor', (await page.locator('#body').isHidden()) && /sample\.png \(1\.2 KB\)/.test(await text(page, '#body-file-text')));
  await page.locator('#send').click();
  const fileSend = (await posted(page)).filter((m) => m.type === 'send').at(-1);
  check('Send keeps the body file', fileSend?.request?.bodyFile === '/w/sample.png', fileSend);
  await page.locator('#use-text-body').click();
  await page.locator('#body').fill('raw text');
  await page.locator('#send').click();
  const textSend = (await posted(page)).filter((m) => m.type === 'send').at(-1);
  check('"Use a text body instead" switches to the editor', textSend?.request?.bodyFile === undefined && textSend?.request?.body === 'raw text', textSend);

  await layoutAndFlow(page);

  // state survives the webview being hidden (reloaded): getState restores the form
  await page.locator('#path').fill('/score?kept=1');
  await page.reload();
  const kept = await poll(() => page.locator('#path').inputValue(), (v) => v === '/score?kept=1');
  check('the form is restored from the webview state after a reload', kept === '/score?kept=1', kept);
  await page.screenshot({ path: path.join(os.tmpdir(), 'azml-webview.png') });
}

/** True when the element's box starts inside the visible viewport (not only in the DOM). */
async function inViewport(page: Page, sel: string): Promise<{ ok: boolean; top: number; bottom: number; height: number }> {
  return page.locator(sel).evaluate((e) => {
    const r = e.getBoundingClientRect();
    return { ok: r.height > 0 && r.top >= 0 && r.top + 16 <= window.innerHeight && r.left >= 0 && r.left < window.innerWidth, top: r.top, bottom: r.bottom, height: window.innerHeight };
  });
}

const LONG_BODY = JSON.stringify({ data: Array.from({ length: 40 }, (_, i) => ({ row: i, values: [i, i + 1] })) }, null, 2);
const ANSWER = toResponseView({ status: 200, headers: { 'Content-Type': 'application/json', 'x-ms-request-id': 'abc' }, body: '{"message":"Hello, world!","nested":{"a":[1,true,null]}}', isBase64: false, elapsedMs: 9 });

/** The response stays in view beside (wide) or under a bounded request (narrow); each send clears it; Cancel; JSON folding; samples; the run() failure link. */
async function layoutAndFlow(page: Page): Promise<void> {
  const samples = [
    { label: 'azure', file: '/w/sample-requests/azure.json' },
    { label: 'greet', file: '/w/sample-requests/greet.case.json' },
    { label: 'sample-request', file: '/w/sample-request.json' },
  ];
  await send(page, { type: 'init', source: 'Prefilled from sample-requests/azure.json', request: { method: 'POST', path: '/score', headersText: 'Content-Type: application/json', body: LONG_BODY }, samples, selected: samples[0].file, history: [] });
  await poll(() => page.locator('#samples option').count(), (n) => n === 3);
  check('the sample picker lists every sample and selects the loaded one', (await page.locator('#samples option').allInnerTexts()).join('|') === 'azure|greet|sample-request' && (await page.locator('#samples').inputValue()) === samples[0].file);
  await page.locator('#samples').selectOption(samples[1].file);
  const picked = (await posted(page)).filter((m) => m.type === 'pickSample').at(-1) as { file?: string } | undefined;
  check('picking a sample asks the extension for it', picked?.file === samples[1].file, picked);
  check('request headers are collapsed, with their count', !(await page.locator('#headers-details').evaluate((d: HTMLDetailsElement) => d.open)) && (await text(page, '#headers-summary')) === 'Headers (1)');

  for (const [w, h, layout] of [[600, 800, 'narrow (the panel beside the editor)'], [1000, 700, 'wide (side by side)']] as const) {
    await page.setViewportSize({ width: w, height: h });
    await send(page, { type: 'response', view: ANSWER });
    await poll(() => page.locator('#response').isVisible(), (v) => v);
    const box = await inViewport(page, '#response-body');
    check(`${layout} ${w}x${h}: the response body is inside the viewport with a long request body`, box.ok, box);
  }
  await page.setViewportSize({ width: 600, height: 800 });

  const highlighted = await page.locator('#response-body .k').allInnerTexts();
  check('JSON is highlighted (keys, strings, numbers, literals)', highlighted.join(',') === '"message","nested","a"' && (await page.locator('#response-body .s').count()) === 1 && (await page.locator('#response-body .b').count()) === 1 && (await page.locator('#response-body .z').count()) === 1, highlighted);
  check('the highlighted body reads as the pretty JSON', (await text(page, '#response-body')) === JSON.stringify(JSON.parse('{"message":"Hello, world!","nested":{"a":[1,true,null]}}'), null, 2), await text(page, '#response-body'));
  await page.locator('#response-body .toggle').nth(1).click();
  const folded = await text(page, '#response-body');
  check('a click on a toggle folds that object', /"nested": \{ … 1 key \}/.test(folded) && !folded.includes('"a"'), folded);
  check('response headers are collapsed', !(await page.locator('#response-headers-details').evaluate((d: HTMLDetailsElement) => d.open)));

  await page.locator('#save-response').click();
  await page.locator('#open-response').click();
  const kinds = (await posted(page)).map((m) => m.type);
  check('Save… and Open in Editor ask the extension', kinds.includes('saveResponse') && kinds.includes('openResponse'));

  await send(page, { type: 'sending', label: 'POST /score' });
  await poll(() => page.locator('#progress').isVisible(), (v) => v);
  const cleared = await page.evaluate(() => ({ body: document.getElementById('response-body')!.textContent, hidden: document.getElementById('response')!.hidden }));
  check('a new send clears the previous answer at once', cleared.body === '' && cleared.hidden, cleared);
  const prog = await poll(() => text(page, '#progress-text'), (t) => /Sending POST \/score… \d+\.\d s/.test(t));
  check('the progress shows what is sent and for how long, with Cancel', /Sending POST \/score… \d+\.\d s/.test(prog) && (await page.locator('#cancel').isVisible()) && (await inViewport(page, '#cancel')).ok, prog);
  await page.locator('#cancel').click();
  check('Cancel asks the extension to cancel', (await posted(page)).some((m) => m.type === 'cancel'));
  await send(page, { type: 'cancelled' });
  await poll(() => page.locator('#progress').isHidden(), (v) => v);
  check('after Cancel: no progress, Send enabled, says cancelled', (await page.locator('#send').isEnabled()) && /Cancelled/.test(await text(page, '#placeholder')));

  await send(page, { type: 'response', view: toResponseView({ status: 500, headers: { 'Content-Type': 'text/plain' }, body: 'ZeroDivisionError', isBase64: false, elapsedMs: 3 }) });
  await send(page, { type: 'failure', failure: { message: 'run() failed: ZeroDivisionError: division by zero', file: '/w/score.py', line: 15 } });
  await poll(() => page.locator('#failure').isVisible(), (v) => v);
  check('a run() failure shows its message and a link to its line', /run\(\) failed: ZeroDivisionError/.test(await text(page, '#failure-text')) && (await text(page, '#failure-link')) === 'Go to score.py:15');
  await page.locator('#failure-link').click();
  const open = (await posted(page)).filter((m) => m.type === 'openLocation').at(-1) as { file?: string; line?: number } | undefined;
  check('the link asks the extension to open score.py at line 15', open?.file === '/w/score.py' && open?.line === 15, open);
  await page.locator('#save-sample').click();
  const saved = (await posted(page)).filter((m) => m.type === 'saveSample').at(-1);
  check('Save as Sample… sends the edited request', !!saved && saved.request?.body === LONG_BODY, saved?.request?.path);
  await page.setViewportSize({ width: 900, height: 900 });
}

main()
  .catch((e: unknown) => check('webview test ran without exception', false, e instanceof Error ? e.stack : String(e)))
  .finally(() => {
    const passed = results.filter((r) => r.ok).length;
    const failed = results.length - passed;
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  });
