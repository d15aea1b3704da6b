/**
 * What the Send Sample Request panel is prefilled with: the nearest sample-request.json
 * (from the script's folder up to its workspace folder), else the swagger example that
 * inference-schema generates, else an empty JSON POST to /score.
 */
import * as fs from 'fs';
import * as path from 'path';

export const SAMPLE_FILE = 'sample-request.json';

export interface SampleRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Absolute path of a binary body (sample-request.json `{"bodyFile": ...}`). */
  bodyFile?: string;
  bodyFileSize?: number;
  /** Where the sample came from, for the panel's caption. */
  source: string;
}

export function defaultRequest(): SampleRequest {
  return { method: 'POST', path: '/score', headers: { 'Content-Type': 'application/json' }, body: '', source: 'default' };
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Nearest sample-request.json walking up from the script's folder, not above its workspace folder. */
export function findSampleRequestFile(
  scriptPath: string,
  workspaceFolders: string[],
  exists: (p: string) => boolean = (p) => fs.existsSync(p),
): string | undefined {
  let dir = path.dirname(scriptPath);
  const root = workspaceFolders.filter((f) => isInside(dir, f)).sort((a, b) => b.length - a.length)[0];
  for (;;) {
    const candidate = path.join(dir, SAMPLE_FILE);
    if (exists(candidate)) {
      return candidate;
    }
    const parent = path.dirname(dir);
    if (!root || dir === root || parent === dir || !isInside(parent, root)) {
      return undefined;
    }
    dir = parent;
  }
}

const SPEC_KEYS = new Set(['method', 'path', 'headers', 'body', 'bodyFile']);

/**
 * A sample-request.json is either the JSON body itself, or a request description
 * `{"bodyFile"|"body": ..., "headers"?, "method"?, "path"?}` (binary samples name a file).
 */
export function parseSampleRequest(
  text: string,
  file: string,
  statSize: (p: string) => number | undefined = (p) => {
    try {
      return fs.statSync(p).size;
    } catch {
      return undefined;
    }
  },
): SampleRequest {
  const req = defaultRequest();
  req.source = file;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    req.body = text;
    return req;
  }
  if (
    parsed &&
    typeof parsed === 'object' &&
    !Array.isArray(parsed) &&
    ('bodyFile' in parsed || 'body' in parsed) &&
    Object.keys(parsed).every((k) => SPEC_KEYS.has(k))
  ) {
    const spec = parsed as { method?: unknown; path?: unknown; headers?: unknown; body?: unknown; bodyFile?: unknown };
    if (typeof spec.method === 'string') {
      req.method = spec.method.toUpperCase();
    }
    if (typeof spec.path === 'string') {
      req.path = spec.path;
    }
    if (spec.headers && typeof spec.headers === 'object') {
      req.headers = Object.fromEntries(Object.entries(spec.headers).map(([k, v]) => [k, String(v)]));
    }
    if (typeof spec.bodyFile === 'string') {
      req.bodyFile = path.resolve(path.dirname(file), spec.bodyFile);
      req.bodyFileSize = statSize(req.bodyFile);
      req.body = '';
    } else if (typeof spec.body === 'string') {
      req.body = spec.body;
    } else if (spec.body !== undefined) {
      req.body = JSON.stringify(spec.body, null, 2);
    }
    return req;
  }
  req.body = JSON.stringify(parsed, null, 2);
  return req;
}

type Json = Record<string, unknown>;

function asObj(v: unknown): Json | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function deref(doc: Json, v: unknown): Json | undefined {
  const o = asObj(v);
  const ref = o?.['$ref'];
  if (typeof ref === 'string' && ref.startsWith('#/')) {
    let cur: unknown = doc;
    for (const part of ref.slice(2).split('/')) {
      cur = asObj(cur)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return asObj(cur);
  }
  return o;
}

/** The request example from a swagger 2 / OpenAPI 3 document for POST /score, if any. */
export function exampleFromSwagger(swagger: unknown): unknown {
  const doc = asObj(swagger);
  if (!doc) {
    return undefined;
  }
  const paths = asObj(doc['paths']);
  const scoreKey = paths && Object.keys(paths).find((p) => /\/score$/.test(p));
  const post = scoreKey ? asObj(asObj(paths[scoreKey])?.['post']) : undefined;
  if (post) {
    // OpenAPI 3: requestBody.content[*].example / schema.example
    const content = asObj(asObj(deref(doc, post['requestBody']))?.['content']);
    for (const media of Object.values(content ?? {})) {
      const m = asObj(media);
      if (m?.['example'] !== undefined) {
        return m['example'];
      }
      const schema = deref(doc, m?.['schema']);
      if (schema?.['example'] !== undefined) {
        return schema['example'];
      }
    }
    // Swagger 2: a body parameter's schema example
    const params = Array.isArray(post['parameters']) ? (post['parameters'] as unknown[]) : [];
    for (const p of params) {
      const param = deref(doc, p);
      if (param?.['in'] === 'body') {
        const schema = deref(doc, param['schema']);
        if (schema?.['example'] !== undefined) {
          return schema['example'];
        }
      }
    }
  }
  const defs = asObj(doc['definitions']) ?? asObj(asObj(doc['components'])?.['schemas']);
  const input = asObj(defs?.['ServiceInput']);
  return input?.['example'];
}
