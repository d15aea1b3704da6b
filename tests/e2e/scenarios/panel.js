// Issue 10, the request panel as a user meets it: "Send Sample Request" opens beside score.py;
// the answer's body text is inside the visible viewport (not only in the DOM); the sample picker
// offers sample-requests/; a second, slow request clears the previous answer while in flight and
// shows progress; Cancel aborts a slow request; a run() failure links to its line; Open in Editor
// and Save as Sample… do what they say.
'use strict';
const fs = require('fs');
const path = require('path');

const SCORE_PY = [
  'import json', //                                   1
  'import time', //                                   2
  '', //                                              3
  '', //                                              4
  'def init():', //                                   5
  '    pass', //                                      6
  '', //                                              7
  '', //                                              8
  'def run(raw_data):', //                            9
  '    data = json.loads(raw_data)', //               10
  '    time.sleep(float(data.get("sleep", 0)))', //  11
  '    ratio = 1 / data.get("divisor", 1)', //        12  <- a run() failure with divisor 0
  '    return {"message": f"Hello, {data[\'name\']}!", "ratio": ratio, "items": [1, 2, 3]}', // 13
  '',
].join('\n');
const FAIL_LINE = 12;

/** The box of a webview element, in the page's coordinates; ok when it lies inside the window's viewport. */
async function inViewport(s, locator) {
  const box = await locator.boundingBox().catch(() => null);
  const vp = s.page.viewportSize();
  const ok = !!box && box.height > 0 && box.y >= 0 && box.y + box.height <= vp.height && box.x >= 0 && box.x + Math.min(box.width, 40) <= vp.width;
  return { ok, box, vp };
}

async function openPanel(t, s) {
  await s.openFile('score.py', 'def init');
  await s.waitForStatus(/Scoring: (stopped|running|starting)/);
  await s.runCommand('AzureML Scoring: Send Sample Request');
  const inner = s.webview();
  await inner.locator('#send').waitFor({ timeout: 30000 });
  const samples = await t.pollUntil(async () => {
    const labels = await inner.locator('#samples option').allInnerTexts().catch(() => []);
    return { ok: labels.join('|') === 'hello|slow|sample-request', labels };
  }, 20000);
  t.check('the sample picker offers sample-requests/*.json and sample-request.json', samples.ok, JSON.stringify(samples.labels));
  const editorBox = await s.editor('def init').boundingBox();
  t.check('the panel opens beside score.py (the editor keeps its width)', !!editorBox && editorBox.width > 500, JSON.stringify(editorBox));
  return inner;
}

async function sendAndSee(t, s, inner) {
  await inner.locator('#send').click();
  const resp = await t.pollUntil(async () => {
    const status = await inner.locator('#status').innerText().catch(() => '');
    const body = await inner.locator('#response-body').innerText().catch(() => '');
    return { ok: /^200\b/.test(status.trim()) && /"message": "Hello, e2e!"/.test(body), status, body };
  }, 90000);
  t.check('Send: 200 and the JSON body in the panel', resp.ok, JSON.stringify({ status: resp.status, body: resp.body.slice(0, 80) }));
  const text = inner.locator('#response-body .s', { hasText: 'Hello, e2e!' }).first();
  const seen = await inViewport(s, text);
  t.check('the response body text "Hello, e2e!" is inside the visible viewport (no scrolling)', seen.ok, JSON.stringify(seen));
  const keys = await inner.locator('#response-body .k').count();
  t.check('the JSON body is highlighted (keys as tokens)', keys === 3, String(keys));
  t.check('the response headers are collapsed', !(await inner.locator('#response-headers-details').evaluate((d) => d.open)));
  // Send started the server: its progress notification closes as the start answers (bounded wait).
  const toast = s.page.locator('.notification-toast', { hasText: 'starting the server' });
  await t.pollUntil(async () => ({ ok: (await toast.count()) === 0 }), 10000);
  await s.screenshot('panel-response');
}

/** Open in Editor: the answer as pretty JSON in an editor beside the panel (which stays in view). */
async function openInEditor(t, s, inner) {
  await inner.locator('#open-response').click();
  const opened = await t.pollUntil(async () => {
    const text = await s.editor('Hello, e2e!').locator('.view-lines').innerText().catch(() => '');
    return { ok: /"message": "Hello, e2e!"/.test(text.replace(/\u00a0/g, ' ')) && (await inner.locator('#send').isVisible().catch(() => false)), text: text.slice(0, 80) };
  }, 15000);
  t.check('Open in Editor shows the answer in an editor, the panel still beside it', opened.ok, JSON.stringify(opened.text));
  await s.tab('score.py').click();
}

async function slowSecondRequest(t, s, inner) {
  await inner.locator('#samples').selectOption({ label: 'slow' });
  const loaded = await t.pollUntil(async () => ({ ok: /"sleep": 4/.test(await inner.locator('#body').inputValue().catch(() => '')) }), 15000);
  t.check('picking the "slow" sample loads its body', loaded.ok);
  await inner.locator('#send').click();
  const flight = await t.pollUntil(async () => {
    const progress = await inner.locator('#progress').isVisible().catch(() => false);
    const body = await inner.locator('#response-body').innerText().catch(() => 'x');
    const hidden = await inner.locator('#response').isHidden().catch(() => false);
    return { ok: progress && body === '' && hidden, progress, body: body.slice(0, 40), hidden };
  }, 10000);
  t.check('while the second request is in flight the previous answer is cleared and progress shows', flight.ok, JSON.stringify(flight));
  const cancelSeen = await inViewport(s, inner.locator('#cancel'));
  t.check('Cancel is in view while the request is in flight', cancelSeen.ok, JSON.stringify(cancelSeen.box));
  await s.screenshot('panel-in-flight');
  const done = await t.pollUntil(async () => ({ ok: /"message": "Hello, slow!"/.test(await inner.locator('#response-body').innerText().catch(() => '')) }), 30000);
  t.check('the slow answer then replaces the progress', done.ok);
}

async function cancelSlow(t, inner) {
  await inner.locator('#send').click();
  await inner.locator('#progress').waitFor({ state: 'visible', timeout: 10000 });
  const t0 = Date.now();
  await inner.locator('#cancel').click();
  const cancelled = await t.pollUntil(async () => ({ ok: /Cancelled/.test(await inner.locator('#placeholder').innerText().catch(() => '')) && (await inner.locator('#send').isEnabled()) }), 10000);
  t.check('Cancel aborts the request at once (not after run() sleeps 4 s)', cancelled.ok && Date.now() - t0 < 3000, `${Date.now() - t0} ms`);
}

async function runFailureLink(t, s, inner) {
  await inner.locator('#body').fill('{"name": "zero", "divisor": 0}');
  await inner.locator('#send').click();
  const link = await t.pollUntil(async () => {
    const text = await inner.locator('#failure-link').innerText().catch(() => '');
    return { ok: (await inner.locator('#failure').isVisible().catch(() => false)) && text === `Go to score.py:${FAIL_LINE}`, text };
  }, 60000);
  t.check(`a run() failure links to score.py:${FAIL_LINE}`, link.ok, JSON.stringify(link.text));
  await s.screenshot('panel-run-failure');
  await inner.locator('#failure-link').click();
  const at = await t.pollUntil(async () => {
    const pos = await s.page.locator('.statusbar-item', { hasText: /Ln \d+, Col \d+/ }).first().innerText().catch(() => '');
    return { ok: new RegExp(`Ln ${FAIL_LINE},`).test(pos), pos };
  }, 15000);
  t.check('the link opens score.py at the failing line', at.ok, JSON.stringify(at.pos));
}

/** Save as Sample…: the edited request becomes sample-requests/NAME.json and joins the picker. */
async function saveAsSample(t, s, inner) {
  await s.tab('Send Sample Request').click();
  await inner.locator('#body').fill('{"name": "saved"}');
  await inner.locator('#save-sample').click();
  await s.quickInput().waitFor({ state: 'visible', timeout: 10000 });
  await s.page.keyboard.type('from-e2e', { delay: 10 });
  await s.page.keyboard.press('Enter');
  const file = path.join(s.workspace, 'sample-requests', 'from-e2e.json');
  const saved = await t.pollUntil(async () => {
    const labels = await inner.locator('#samples option').allInnerTexts().catch(() => []);
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    return { ok: labels.includes('from-e2e') && JSON.parse(text || 'null')?.name === 'saved', labels, text };
  }, 15000);
  t.check('Save as Sample… writes sample-requests/from-e2e.json and the picker offers it', saved.ok, JSON.stringify({ labels: saved.labels, text: saved.text }));
}

module.exports = {
  name: 'panel',
  timeoutMs: 360000,
  async run(t) {
    const s = await t.open({
      settings: { 'remote.autoForwardPorts': false }, // no "port is available" toast over the panel
      files: {
        'score.py': SCORE_PY,
        'sample-request.json': '{"name": "nearest"}\n',
        'sample-requests/hello.json': '{"name": "e2e"}\n',
        'sample-requests/slow.json': '{"name": "slow", "sleep": 4}\n',
      },
    });
    const inner = await openPanel(t, s);
    await sendAndSee(t, s, inner);
    await openInEditor(t, s, inner);
    await slowSecondRequest(t, s, inner);
    await cancelSlow(t, inner);
    await runFailureLink(t, s, inner);
    await saveAsSample(t, s, inner);
  },
};
