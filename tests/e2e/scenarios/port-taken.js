// Issue 9, the port: with 5001 (the reference's port, the tutorials') taken, Start serves on the
// next free port with a one-line notice naming both; the status bar, the panel's target and its
// "Copy as curl" all use that port, the server answers there, and a restart keeps it.
'use strict';
const http = require('http');
const net = require('net');

const SCORE_PY = 'import json\n\n\ndef init():\n    pass\n\n\ndef run(raw_data):\n    return {"hello": json.loads(raw_data)["name"]}\n';

/** Holds 127.0.0.1:5001 for the scenario; resolves to the server to close, or null when another process holds it already. */
function hold5001() {
  return new Promise((resolve) => {
    const server = net.createServer((c) => c.destroy());
    server.once('error', () => resolve(null)); // taken by someone else: just as good
    server.listen(5001, '127.0.0.1', () => resolve(server));
  });
}

function get(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', (e) => resolve(String(e)));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

async function startOnAnotherPort(t, s) {
  await s.openFile('score.py', 'def init');
  await s.runCommand('AzureML Scoring: Start Scoring Server');
  const up = await s.waitForStatus(/Scoring: running :\d+/, 90000);
  const port = Number((/running :(\d+)/.exec(up.t) || [])[1]);
  t.check('the server runs on another port than 5001, shown in the status bar', up.ok && port > 0 && port !== 5001, JSON.stringify(up.t));
  const notice = await t.pollUntil(async () => {
    const toasts = await s.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts().catch(() => []);
    return { ok: toasts.some((x) => x.includes(`Port 5001 is in use: the scoring server listens on port ${port} instead.`)), toasts };
  }, 15000);
  t.check('a one-line notice names both ports', notice.ok, JSON.stringify(notice.toasts));
  t.check(`the server answers on :${port}`, (await get(port)) === 200);
  return port;
}

async function panelUsesPort(t, s, port) {
  await s.runCommand('AzureML Scoring: Send Sample Request');
  const inner = s.webview();
  await inner.locator('#send').waitFor({ timeout: 30000 });
  const target = await t.pollUntil(async () => {
    const text = await inner.locator('#target').innerText().catch(() => '');
    return { ok: text.includes(`127.0.0.1:${port}`), text };
  }, 15000);
  t.check(`the panel's target is :${port}`, target.ok, JSON.stringify(target.text));
  await inner.locator('#send').click();
  const answered = await t.pollUntil(async () => ({ ok: /^200\b/.test((await inner.locator('#status').innerText().catch(() => '')).trim()) }), 60000);
  t.check('Send answers 200 from that port', answered.ok);
  await s.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.url });
  await inner.locator('#copy-curl').click();
  const curl = await t.pollUntil(async () => {
    const text = await s.page.evaluate(() => globalThis.navigator.clipboard.readText()).catch((e) => String(e));
    return { ok: text.startsWith('curl') && text.includes(`http://127.0.0.1:${port}/score`), text };
  }, 10000);
  t.check(`Copy as curl aims at :${port}`, curl.ok, JSON.stringify(curl.text.slice(0, 160)));
  await s.screenshot('port-taken-panel');
}

module.exports = {
  name: 'port-taken',
  timeoutMs: 300000,
  async run(t) {
    const held = await hold5001();
    try {
      const s = await t.open({ files: { 'score.py': SCORE_PY, 'sample-request.json': '{"name": "port"}\n' } });
      const port = await startOnAnotherPort(t, s);
      await panelUsesPort(t, s, port);
      const before = new Set(s.processes().map((p) => p.pid));
      await s.runCommand('AzureML Scoring: Restart Scoring Server');
      const again = await t.pollUntil(async () => {
        const text = await s.statusText();
        const fresh = s.processes().filter((p) => !before.has(p.pid));
        return { ok: new RegExp(`running :${port}\\b`).test(text) && fresh.length > 0, text, fresh: fresh.length };
      }, 90000);
      t.check(`a restart (new server processes) keeps :${port}`, again.ok, JSON.stringify(again));
      t.check(`and answers there again`, (await get(port)) === 200);
    } finally {
      if (held) {
        held.close();
      }
    }
  },
};
