import { strict as assert } from 'assert';
import * as vscode from 'vscode';
import { contentSecurityPolicy, renderPanelHtml } from '../../extension/src/panelHtml';
import { ScoreCodeLensProvider } from '../../extension/src/codeLens';
import { RequestPanel } from '../../extension/src/requestPanel';
import { RequestHistory } from '../../extension/src/history';
import { ServerStatus, SendRequestArgs } from '../../extension/src/protocol';
import * as fake from './fake/vscode';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Memento } from './fake/memento';

describe('panel HTML', () => {
  const html = renderPanelHtml({ cspSource: 'https://x.vscode-cdn.net', nonce: 'abc123', scriptUri: 'https://x.vscode-cdn.net/media/request.js', styleUri: 'https://x.vscode-cdn.net/media/request.css' });

  it('has a strict CSP: scripts only by nonce, nothing inline', () => {
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; [^"]*script-src 'nonce-abc123'/);
    assert.equal(contentSecurityPolicy('S', 'N').includes('unsafe'), false);
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0], /nonce="abc123" src="https:\/\/x\.vscode-cdn\.net\/media\/request\.js"/);
    assert.match(html, /<script[^>]*><\/script>/, 'the script element has no inline body');
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
    assert.doesNotMatch(html, /\sstyle=/i, 'no inline styles');
    assert.doesNotMatch(html, /<style/i);
  });
});

describe('CodeLens', () => {
  const doc = (file: string, text: string) => ({ uri: vscode.Uri.file(file), getText: () => text }) as unknown as vscode.TextDocument;

  it('puts Send Sample Request and Debug above init() and run() of a score script', () => {
    const lenses = new ScoreCodeLensProvider(() => true).provideCodeLenses(doc('/w/score.py', 'def init():\n    pass\n\ndef run(x):\n    return x\n'));
    assert.deepEqual(
      lenses.map((l) => [l.range.start.line, l.command?.command]),
      [
        [0, 'azmlinfsrv.sendRequest'],
        [0, 'azmlinfsrv.debug'],
        [3, 'azmlinfsrv.sendRequest'],
        [3, 'azmlinfsrv.debug'],
      ],
    );
    assert.equal((lenses[0].command?.arguments?.[0] as vscode.Uri).fsPath, '/w/score.py');
  });

  it('stays away from other Python files and when disabled', () => {
    assert.equal(new ScoreCodeLensProvider(() => true).provideCodeLenses(doc('/w/tasks.py', 'def run(x):\n    pass\n')).length, 0);
    assert.equal(new ScoreCodeLensProvider(() => false).provideCodeLenses(doc('/w/score.py', 'def run(x):\n    pass\n')).length, 0);
  });
});

describe('Send Sample Request panel (extension side)', () => {
  let ws: string;
  beforeEach(() => {
    fake.reset();
    RequestPanel.current?.dispose();
    ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'azml-panel-')));
    fake.state.workspaceFolders = [ws];
    fs.writeFileSync(path.join(ws, 'score.py'), 'def init():\n    pass\n\ndef run(d):\n    return d\n');
  });
  afterEach(() => {
    RequestPanel.current?.dispose();
    fs.rmSync(ws, { recursive: true, force: true });
  });

  function host(sent: SendRequestArgs[], swaggerDoc?: unknown, cancelled: string[] = []) {
    const emitter = new fake.EventEmitter<ServerStatus>();
    return {
      cancel: async (id: string) => void cancelled.push(id),
      status: { state: 'running', url: 'http://127.0.0.1:5999', entryScript: path.join(ws, 'score.py') } as ServerStatus,
      onDidChangeStatus: emitter.event,
      send: async (r: SendRequestArgs) => (sent.push(r), { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"ok":true}', isBase64: false, elapsedMs: 3 }),
      swagger: async () => swaggerDoc,
      entryScript: async () => path.join(ws, 'score.py'),
    };
  }
  const tick = () => new Promise((r) => setTimeout(r, 10));

  it('limits local resources to the media folder and enables scripts', async () => {
    await RequestPanel.show(vscode.Uri.file('/ext'), host([]), new RequestHistory(new Memento()));
    const p = fake.state.panels[0];
    assert.equal(p.options.enableScripts, true);
    assert.deepEqual(
      p.options.localResourceRoots.map((u: vscode.Uri) => u.fsPath),
      ['/ext/extension/media'],
    );
    assert.match(p.webview.html, /src="vscode-resource:[/]*ext\/extension\/media\/request\.js"/);
  });

  it('prefills from sample-request.json, sends through the host, records history', async () => {
    fs.writeFileSync(path.join(ws, 'sample-request.json'), '{"name": "panel"}');
    const sent: SendRequestArgs[] = [];
    const memento = new Memento();
    await RequestPanel.show(vscode.Uri.file('/ext'), host(sent), new RequestHistory(memento));
    const p = fake.state.panels[0];
    p.receive({ type: 'ready' });
    await tick();
    const init = p.posted.find((m: { type: string }) => m.type === 'init');
    assert.equal(init.request.body, '{\n  "name": "panel"\n}');
    assert.equal(init.target, 'http://127.0.0.1:5999');
    assert.match(init.source, /Prefilled from sample-request\.json/);
    p.receive({ type: 'send', request: { ...init.request, headersText: 'Content-Type: application/json\nX-Test: 1' } });
    await tick();
    const { requestId, ...first } = sent[0];
    assert.deepEqual(first, { method: 'POST', path: '/score', headers: { 'Content-Type': 'application/json', 'X-Test': '1' }, body: '{\n  "name": "panel"\n}' });
    assert.match(requestId ?? '', /^panel-\d+-\d+$/, 'each send is named, for Cancel');
    const resp = p.posted.find((m: { type: string }) => m.type === 'response');
    assert.equal(resp.view.text, '{\n  "ok": true\n}');
    const hist = p.posted.find((m: { type: string }) => m.type === 'history');
    assert.equal(hist.history[0].status, 200);
    assert.equal(new RequestHistory(memento).list().length, 1);
  });

  it('sends a body file as base64 only when it is the offered one', async () => {
    fs.writeFileSync(path.join(ws, 'img.bin'), Buffer.from([0, 1, 2, 255]));
    fs.writeFileSync(path.join(ws, 'sample-request.json'), '{"bodyFile": "img.bin", "headers": {"Content-Type": "image/png"}}');
    const sent: SendRequestArgs[] = [];
    await RequestPanel.show(vscode.Uri.file('/ext'), host(sent), new RequestHistory(new Memento()));
    const p = fake.state.panels[0];
    p.receive({ type: 'ready' });
    await tick();
    const init = p.posted.find((m: { type: string }) => m.type === 'init');
    assert.match(init.bodyFileNote, /img\.bin \(4 B\)/);
    p.receive({ type: 'send', request: init.request });
    await tick();
    assert.equal(sent[0].bodyBase64, Buffer.from([0, 1, 2, 255]).toString('base64'));
    assert.equal(sent[0].body, undefined);
    p.receive({ type: 'send', request: { ...init.request, bodyFile: '/etc/passwd', body: 'x' } });
    await tick();
    assert.equal(sent[1].bodyBase64, undefined);
    assert.equal(sent[1].body, 'x');
  });

  it('falls back to the swagger example, copies curl, reports errors', async () => {
    const swagger = { definitions: { ServiceInput: { example: { data: [1] } } } };
    const h = host([], swagger);
    h.send = async () => {
      throw new Error('The scoring server is not running.');
    };
    await RequestPanel.show(vscode.Uri.file('/ext'), h, new RequestHistory(new Memento()));
    const p = fake.state.panels[0];
    p.receive({ type: 'ready' });
    await tick();
    const init = p.posted.find((m: { type: string }) => m.type === 'init');
    assert.deepEqual(JSON.parse(init.request.body), { data: [1] });
    assert.match(init.source, /swagger/);
    p.receive({ type: 'copyCurl', request: init.request });
    await tick();
    assert.match(fake.state.clipboard, /^curl -sS -X POST http:\/\/127\.0\.0\.1:5999\/score -H 'Content-Type: application\/json' --data-binary '\{/);
    p.receive({ type: 'send', request: init.request });
    await tick();
    assert.deepEqual(p.posted.find((m: { type: string }) => m.type === 'error'), { type: 'error', message: 'The scoring server is not running.' });
  });
});
