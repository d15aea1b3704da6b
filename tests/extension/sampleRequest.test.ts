import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultRequest, exampleFromSwagger, findSampleRequestFile, parseSampleRequest } from '../../extension/src/sampleRequest';

const REPO = path.resolve(__dirname, '..', '..', '..');

describe('sample-request discovery', () => {
  let root: string;
  beforeEach(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'azml-sample-')));
    fs.mkdirSync(path.join(root, 'ws', 'proj', 'src'), { recursive: true });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('finds the file next to the script first', () => {
    fs.writeFileSync(path.join(root, 'ws', 'proj', 'src', 'sample-request.json'), '{}');
    fs.writeFileSync(path.join(root, 'ws', 'sample-request.json'), '{}');
    assert.equal(findSampleRequestFile(path.join(root, 'ws', 'proj', 'src', 'score.py'), [path.join(root, 'ws')]), path.join(root, 'ws', 'proj', 'src', 'sample-request.json'));
  });

  it('walks up to the workspace folder, not above it', () => {
    fs.writeFileSync(path.join(root, 'ws', 'sample-request.json'), '{}');
    fs.writeFileSync(path.join(root, 'sample-request.json'), '{}');
    assert.equal(findSampleRequestFile(path.join(root, 'ws', 'proj', 'src', 'score.py'), [path.join(root, 'ws')]), path.join(root, 'ws', 'sample-request.json'));
    fs.rmSync(path.join(root, 'ws', 'sample-request.json'));
    assert.equal(findSampleRequestFile(path.join(root, 'ws', 'proj', 'src', 'score.py'), [path.join(root, 'ws')]), undefined);
  });

  it('only looks in the script folder when it is outside every workspace folder', () => {
    fs.writeFileSync(path.join(root, 'ws', 'sample-request.json'), '{}');
    assert.equal(findSampleRequestFile(path.join(root, 'ws', 'proj', 'src', 'score.py'), ['/elsewhere']), undefined);
  });

  it('finds the examples of this repository', () => {
    const f = findSampleRequestFile(path.join(REPO, 'examples', 'hello', 'score.py'), [REPO]);
    assert.equal(f, path.join(REPO, 'examples', 'hello', 'sample-request.json'));
  });
});

describe('sample-request parsing', () => {
  it('treats plain JSON as the body, pretty-printed', () => {
    const r = parseSampleRequest('{"name": "world"}', '/w/sample-request.json');
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/score');
    assert.deepEqual(r.headers, { 'Content-Type': 'application/json' });
    assert.equal(r.body, '{\n  "name": "world"\n}');
    assert.equal(r.source, '/w/sample-request.json');
  });

  it('does not mistake a body with a "method" field for a request description', () => {
    const text = fs.readFileSync(path.join(REPO, 'examples', 'schema', 'sample-request.json'), 'utf8');
    const r = parseSampleRequest(text, '/w/sample-request.json');
    assert.equal(r.method, 'POST');
    assert.deepEqual(JSON.parse(r.body), JSON.parse(text));
  });

  it('reads a binary body file description (rawhttp-image example)', () => {
    const file = path.join(REPO, 'examples', 'rawhttp-image', 'sample-request.json');
    const r = parseSampleRequest(fs.readFileSync(file, 'utf8'), file);
    assert.equal(r.bodyFile, path.join(REPO, 'examples', 'rawhttp-image', 'sample.png'));
    assert.deepEqual(r.headers, { 'Content-Type': 'image/png' });
    assert.equal(r.bodyFileSize, fs.statSync(r.bodyFile).size);
    assert.equal(r.body, '');
  });

  it('reads method, path, headers and an inline body', () => {
    const r = parseSampleRequest('{"method": "get", "path": "/score?x=1", "headers": {"X-A": 1}, "body": {"a": 1}}', '/w/s.json');
    assert.deepEqual([r.method, r.path, r.headers, JSON.parse(r.body)], ['GET', '/score?x=1', { 'X-A': '1' }, { a: 1 }]);
  });

  it('keeps non-JSON text as is', () => {
    assert.equal(parseSampleRequest('name=world', '/w/s.json').body, 'name=world');
  });

  it('defaults to an empty JSON POST to /score', () => {
    assert.deepEqual(defaultRequest(), { method: 'POST', path: '/score', headers: { 'Content-Type': 'application/json' }, body: '', source: 'default' });
  });
});

describe('swagger example', () => {
  it('reads the swagger 2 body parameter example through $ref', () => {
    const doc = {
      swagger: '2.0',
      paths: { '/score': { post: { parameters: [{ name: 'Inputs', in: 'body', schema: { $ref: '#/definitions/ServiceInput' } }] } } },
      definitions: { ServiceInput: { type: 'object', example: { data: [[1, 2]] } } },
    };
    assert.deepEqual(exampleFromSwagger(doc), { data: [[1, 2]] });
  });

  it('reads an OpenAPI 3 requestBody example', () => {
    const doc = {
      openapi: '3.0.1',
      paths: { '/prefix/score': { post: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/ServiceInput' } } } } } } },
      components: { schemas: { ServiceInput: { example: { method: 'predict' } } } },
    };
    assert.deepEqual(exampleFromSwagger(doc), { method: 'predict' });
  });

  it('falls back to definitions.ServiceInput and tolerates junk', () => {
    assert.deepEqual(exampleFromSwagger({ definitions: { ServiceInput: { example: [1] } } }), [1]);
    assert.equal(exampleFromSwagger({ paths: { '/score': { get: {} } } }), undefined);
    assert.equal(exampleFromSwagger(null), undefined);
    assert.equal(exampleFromSwagger('x'), undefined);
  });
});
