import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { RequestHistory } from '../../extension/src/history';
import { ServerStatus, SendRequestArgs, SendRequestResult } from '../../extension/src/protocol';
import { RequestPanel } from '../../extension/src/requestPanel';
import { isSampleFile, listSamples, newSampleName, readSample, sampleFileFor } from '../../extension/src/sampleList';
import { Memento } from './fake/memento';
import * as fake from './fake/vscode';

describe('samples of sample-requests/', () => {
  let ws: string;
  beforeEach(() => {
    fake.reset();
    fake.dialogs.reset();
    ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'azml-samples-')));
    fake.state.workspaceFolders = [ws];
    fs.mkdirSync(path.join(ws, 'sample-requests'));
    const files: Record<string, string> = {
      'score.py': 'def init():\n    pass\n\ndef run(d):\n    return d\n',
      'sample-request.json': '{"name": "nearest"}',
      'sample-requests/world.json': '{"name":"world"}',
      'sample-requests/world.expected.json': '{"message": "Hello, world!"}',
      'sample-requests/greet.case.json': '{"request": {"method": "GET", "path": "/score?name=Q"}, "expect": {"status": 200}}',
      'sample-requests/text.case.json': '{"request": {"body": "hi"}}',
      'sample-requests/answer.schema.json': '{}',
      'sample-requests/.hidden.json': '{}',
    };
    for (const [k, v] of Object.entries(files)) {
      fs.writeFileSync(path.join(ws, k), v);
    }
  });
  afterEach(() => {
    RequestPanel.current?.dispose();
    fs.rmSync(ws, { recursive: true, force: true });
  });

  it('lists bodies and case files, not expected answers, schemas or hidden files, then sample-request.json', () => {
    assert.ok(isSampleFile('a.json') && isSampleFile('a.case.json') && !isSampleFile('a.expected.json') && !isSampleFile('.a.json') && !isSampleFile('a.txt'));
    const list = listSamples(path.join(ws, 'score.py'), [ws]);
    assert.deepEqual(list.map((s) => s.label), ['greet', 'text', 'world', 'sample-request']);
  });

  it('reads a case file by its request part, a folder body as it is', () => {
    const greet = readSample(path.join(ws, 'sample-requests', 'greet.case.json'));
    assert.deepEqual([greet.method, greet.path, greet.body, greet.headers], ['GET', '/score?name=Q', '', { 'Content-Type': 'application/json' }]);
    const text = readSample(path.join(ws, 'sample-requests', 'text.case.json'));
    assert.deepEqual([text.body, text.headers], ['hi', { 'Content-Type': 'text/plain; charset=utf-8' }]);
    assert.equal(readSample(path.join(ws, 'sample-requests', 'world.json')).body, '{\n  "name": "world"\n}');
  });

  it('saves a plain JSON POST as a body, anything else as a case file, never over an existing one', () => {
    assert.deepEqual(sampleFileFor({ method: 'POST', path: '/score', headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' }), { text: '{\n  "a": 1\n}\n', suffix: '.json' });
    const c = sampleFileFor({ method: 'GET', path: '/score?x=1', headers: { 'X-A': '1' }, body: '' });
    assert.deepEqual(JSON.parse(c.text), { request: { method: 'GET', path: '/score?x=1', headers: { 'X-A': '1' } } });
    assert.equal(c.suffix, '.case.json');
    const dir = path.join(ws, 'sample-requests');
    assert.equal(newSampleName('world', '.json', (p) => fs.existsSync(p), dir), 'world-2.json');
    assert.equal(newSampleName('../My Request', '.case.json', (p) => fs.existsSync(p), dir), 'My-Request.case.json');
  });

  function host(send: (r: SendRequestArgs) => Promise<SendRequestResult>, cancelled: string[]) {
    const emitter = new fake.EventEmitter<ServerStatus>();
    return {
      status: { state: 'running', url: 'http://127.0.0.1:5999', entryScript: path.join(ws, 'score.py') } as ServerStatus,
      onDidChangeStatus: emitter.event,
      send,
      cancel: async (id: string) => void cancelled.push(id),
      swagger: async () => undefined,
      entryScript: async () => path.join(ws, 'score.py'),
    };
  }
  const tick = () => new Promise((r) => setTimeout(r, 10));

  it('the panel offers the samples, loads a picked one, and Cancel aborts the pending request by its id', async () => {
    const sent: SendRequestArgs[] = [];
    const cancelled: string[] = [];
    let answer: (r: SendRequestResult) => void = () => undefined;
    const h = host((r) => (sent.push(r), new Promise((res) => (answer = res))), cancelled);
    await RequestPanel.show(vscode.Uri.file('/ext'), h, new RequestHistory(new Memento()));
    const p = fake.state.panels[0];
    p.receive({ type: 'ready' });
    await tick();
    const init = p.posted.find((m: { type: string }) => m.type === 'init');
    assert.deepEqual(init.samples.map((s: { label: string }) => s.label), ['greet', 'text', 'world', 'sample-request']);
    assert.equal(init.selected, path.join(ws, 'sample-requests', 'greet.case.json'));
    p.receive({ type: 'pickSample', file: path.join(ws, 'sample-requests', 'world.json') });
    await tick();
    const picked = p.posted.find((m: { type: string }) => m.type === 'sample');
    assert.equal(picked.request.body, '{\n  "name": "world"\n}');

    p.receive({ type: 'send', request: picked.request });
    await tick();
    assert.deepEqual(p.posted.at(-1), { type: 'sending', label: 'POST /score' });
    p.receive({ type: 'cancel' });
    await tick();
    assert.deepEqual(cancelled, [sent[0].requestId]);
    assert.deepEqual(p.posted.at(-1), { type: 'cancelled' });
    answer({ status: 200, headers: {}, body: 'late', isBase64: false, elapsedMs: 1 });
    await tick();
    assert.deepEqual(p.posted.at(-1), { type: 'cancelled' }, 'a late answer of a cancelled request is dropped');
  });

  it('saves the edited request as a new sample and the answer to a file or an editor', async () => {
    const answerBody = '{"message":"hi"}';
    const h = host(async () => ({ status: 200, headers: { 'Content-Type': 'application/json' }, body: answerBody, isBase64: false, elapsedMs: 2 }), []);
    await RequestPanel.show(vscode.Uri.file('/ext'), h, new RequestHistory(new Memento()));
    const p = fake.state.panels[0];
    p.receive({ type: 'ready' });
    await tick();
    fake.dialogs.inputAnswers.push('by hand');
    p.receive({ type: 'saveSample', request: { method: 'POST', path: '/score', headersText: 'Content-Type: application/json', body: '{"name":"hand"}' } });
    await tick();
    const file = path.join(ws, 'sample-requests', 'by-hand.json');
    assert.equal(fs.readFileSync(file, 'utf8'), '{\n  "name": "hand"\n}\n');
    const samples = p.posted.find((m: { type: string }) => m.type === 'samples');
    assert.equal(samples.selected, file);
    assert.ok(samples.samples.some((x: { label: string }) => x.label === 'by-hand'));

    p.receive({ type: 'send', request: { method: 'POST', path: '/score', headersText: '', body: '{}' } });
    await tick();
    const target = path.join(ws, 'answer.json');
    fake.dialogs.saveAnswers.push(target);
    p.receive({ type: 'saveResponse' });
    await tick();
    assert.equal(fake.dialogs.saves[0].defaultUri.fsPath, path.join(ws, 'response.json'));
    assert.equal(fs.readFileSync(target, 'utf8'), answerBody, 'saved byte for byte');
    p.receive({ type: 'openResponse' });
    await tick();
    assert.deepEqual(fake.dialogs.opened[0], { content: '{\n  "message": "hi"\n}\n', language: 'json' });
  });
});
