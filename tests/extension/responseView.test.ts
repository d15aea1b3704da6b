import { strict as assert } from 'assert';
import { base64Size, header, toResponseView } from '../../extension/src/responseView';

const res = (over: Record<string, unknown>) => ({ status: 200, headers: {}, body: '', isBase64: false, elapsedMs: 12.4, ...over });

describe('response view', () => {
  it('pretty-prints JSON with status text and elapsed ms', () => {
    const v = toResponseView(res({ headers: { 'Content-Type': 'application/json' }, body: '{"message":"Hello"}' }));
    assert.equal(v.kind, 'json');
    assert.equal(v.text, '{\n  "message": "Hello"\n}');
    assert.equal(v.statusText, 'OK');
    assert.equal(v.elapsedMs, 12);
    assert.equal(v.totalBytes, 19);
    assert.deepEqual(v.headers, [['Content-Type', 'application/json']]);
  });

  it('detects JSON without a content type, keeps other text', () => {
    assert.equal(toResponseView(res({ body: '[1,2]' })).kind, 'json');
    const t = toResponseView(res({ status: 500, headers: { 'content-type': 'text/plain' }, body: 'boom' }));
    assert.equal(t.kind, 'text');
    assert.equal(t.text, 'boom');
    assert.equal(t.statusText, 'Internal Server Error');
    assert.equal(toResponseView(res({ headers: { 'content-type': 'application/json' }, body: '{bad' })).kind, 'text');
  });

  it('renders images from base64 bodies', () => {
    const v = toResponseView(res({ headers: { 'Content-Type': 'image/png; charset=binary' }, body: 'iVBORw0KGgo=', isBase64: true }));
    assert.equal(v.kind, 'image');
    assert.equal(v.imageSrc, 'data:image/png;base64,iVBORw0KGgo=');
    assert.equal(v.totalBytes, 8);
  });

  it('describes other binary bodies instead of dumping them', () => {
    const v = toResponseView(res({ headers: { 'Content-Type': 'application/octet-stream' }, body: 'AAECAw==', isBase64: true }));
    assert.equal(v.kind, 'binary');
    assert.equal(v.text, undefined);
    assert.match(v.note ?? '', /4 B of binary data \(application\/octet-stream\)/);
  });

  it('truncates large bodies with a note', () => {
    const body = JSON.stringify({ data: 'x'.repeat(5000) });
    const v = toResponseView(res({ headers: { 'Content-Type': 'application/json' }, body }), 1000);
    assert.equal(v.truncated, true);
    assert.equal(v.text?.length, 1000);
    assert.match(v.note ?? '', /truncated/);
  });

  it('handles empty bodies and header lookups', () => {
    assert.equal(toResponseView(res({ status: 204 })).kind, 'empty');
    assert.equal(header({ 'X-Ms-Request-Id': 'a' }, 'x-ms-request-id'), 'a');
    assert.equal(base64Size('AA=='), 1);
  });
});
