/**
 * The samples the panel's picker offers: every request of the `sample-requests/` folder beside
 * the script (the cases of `azmlinfsrv test`, docs/validation.md) and the nearest
 * sample-request.json; and where "Save as Sample" writes a new one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { defaultRequest, findSampleRequestFile, parseSampleRequest, SampleRequest } from './sampleRequest';

export const SAMPLES_DIR = 'sample-requests';

export interface SampleEntry {
  /** The picker's label: the case name (file name without .json / .case.json). */
  label: string;
  file: string;
}

/** Request bodies and case files of a sample-requests folder (not expected answers, schemas or hidden files). */
export function isSampleFile(name: string): boolean {
  return name.endsWith('.json') && !name.startsWith('.') && !name.endsWith('.expected.json') && !name.endsWith('.schema.json');
}

export function sampleLabel(file: string): string {
  return path.basename(file).replace(/\.case\.json$|\.json$/, '');
}

/** Folder samples first (sorted by name), then the nearest sample-request.json. */
export function listSamples(script: string, workspaceFolders: string[], readdir: (d: string) => string[] = safeReaddir): SampleEntry[] {
  const dir = path.join(path.dirname(script), SAMPLES_DIR);
  const out = readdir(dir)
    .filter(isSampleFile)
    .sort()
    .map((n) => ({ label: sampleLabel(n), file: path.join(dir, n) }));
  const nearest = findSampleRequestFile(script, workspaceFolders);
  if (nearest) {
    out.push({ label: 'sample-request', file: nearest });
  }
  return out;
}

function safeReaddir(d: string): string[] {
  try {
    return fs.readdirSync(d);
  } catch {
    return [];
  }
}

type CaseRequest = { method?: unknown; path?: unknown; headers?: unknown; json?: unknown; body?: unknown; bodyFile?: unknown };

/** The request part of a `NAME.case.json` (docs/validation.md) as the panel's request. */
export function parseCaseFile(text: string, file: string, statSize?: (p: string) => number | undefined): SampleRequest {
  const parsed = JSON.parse(text) as { request?: CaseRequest };
  const r = parsed && typeof parsed === 'object' && parsed.request && typeof parsed.request === 'object' ? parsed.request : {};
  const spec: Record<string, unknown> = { method: r.method ?? 'POST', path: r.path ?? '/score' };
  const headers: Record<string, string> = r.headers && typeof r.headers === 'object' ? Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)])) : {};
  const has = (name: string) => Object.keys(headers).some((k) => k.toLowerCase() === name);
  if (r.bodyFile !== undefined) {
    spec.bodyFile = r.bodyFile;
  } else if (r.body !== undefined) {
    spec.body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    if (!has('content-type')) {
      headers['Content-Type'] = 'text/plain; charset=utf-8';
    }
  } else {
    spec.body = r.json === undefined ? '' : JSON.stringify(r.json, null, 2);
  }
  spec.headers = Object.keys(headers).length || r.bodyFile !== undefined || r.body !== undefined ? headers : defaultRequest().headers;
  return parseSampleRequest(JSON.stringify(spec), file, statSize);
}

/** Reads one sample: a case file by its request part, any other file as sample-request.json is read. */
export function readSample(file: string): SampleRequest {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.case.json')) {
    return parseCaseFile(text, file);
  }
  if (path.basename(file) !== 'sample-request.json') {
    // A NAME.json of the folder is always a body, sent as it is (docs/validation.md).
    return { ...defaultRequest(), body: bodyText(text), source: file };
  }
  return parseSampleRequest(text, file);
}

function bodyText(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export interface SavedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The file text and name suffix for a request saved as a sample: a plain JSON POST /score is
 * saved as its body (`NAME.json`), anything else as a case file's request (`NAME.case.json`).
 */
export function sampleFileFor(r: SavedRequest): { text: string; suffix: '.json' | '.case.json' } {
  const ct = Object.entries(r.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? 'application/json';
  const otherHeaders = Object.keys(r.headers).filter((k) => k.toLowerCase() !== 'content-type');
  let json: unknown;
  let isJson = false;
  try {
    json = JSON.parse(r.body);
    isJson = true;
  } catch {
    // a text body
  }
  if (r.method === 'POST' && r.path === '/score' && /json/i.test(ct) && isJson && otherHeaders.length === 0) {
    return { text: JSON.stringify(json, null, 2) + '\n', suffix: '.json' };
  }
  const request: Record<string, unknown> = { method: r.method, path: r.path };
  if (Object.keys(r.headers).length) {
    request.headers = r.headers;
  }
  if (r.body && isJson && /json/i.test(ct)) {
    request.json = json;
  } else if (r.body) {
    request.body = r.body;
  }
  return { text: JSON.stringify({ request }, null, 2) + '\n', suffix: '.case.json' };
}

/** A file name for a new sample: `name` made safe, not clashing with an existing sample. */
export function newSampleName(name: string, suffix: string, exists: (p: string) => boolean, dir: string): string {
  const base = name.trim().replace(/\.case\.json$|\.json$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '') || 'sample';
  let candidate = base;
  for (let i = 2; exists(path.join(dir, candidate + '.json')) || exists(path.join(dir, candidate + '.case.json')); i++) {
    candidate = `${base}-${i}`;
  }
  return candidate + suffix;
}
