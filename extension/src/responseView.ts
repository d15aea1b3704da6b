/** Turns a daemon sendRequest result into what the panel shows (pretty, typed, truncated). */
import { SendRequestResult } from './protocol';

export type BodyKind = 'json' | 'text' | 'image' | 'binary' | 'empty';

export interface ResponseView {
  status: number;
  statusText: string;
  elapsedMs: number;
  headers: [string, string][];
  contentType: string;
  kind: BodyKind;
  /** Pretty-printed (json) or raw (text) body, possibly truncated. */
  text?: string;
  /** data: URI for images. */
  imageSrc?: string;
  totalBytes: number;
  truncated: boolean;
  note?: string;
}

export const MAX_TEXT_CHARS = 100_000;
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

const REASONS: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
  304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 408: 'Request Timeout', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function header(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

export function base64Size(b64: string): number {
  const clean = b64.replace(/\s/g, '');
  const pad = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((clean.length * 3) / 4) - pad);
}

export function formatBytes(n: number): string {
  if (n < 1024) {
    return `${n} B`;
  }
  if (n < 1024 * 1024) {
    return `${(n / 1024).toFixed(1)} KB`;
  }
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

const IMAGE_TYPES = /^image\/(png|jpe?g|gif|webp|bmp|svg\+xml|x-icon|vnd\.microsoft\.icon)$/;

/** A base64 body: an inline image when small enough, else a note of its size. */
function binaryView(base: ResponseView, body: string): ResponseView {
  const size = base64Size(body);
  const image = IMAGE_TYPES.test(base.contentType);
  if (image && size <= MAX_IMAGE_BYTES) {
    return { ...base, totalBytes: size, kind: 'image', imageSrc: `data:${base.contentType};base64,${body.replace(/\s/g, '')}` };
  }
  const note = `${formatBytes(size)} of binary data${base.contentType ? ` (${base.contentType})` : ''}${image ? ', too large to preview' : ''}`;
  return { ...base, totalBytes: size, kind: 'binary', note };
}

/** A text body: pretty JSON when it parses as such, cut at maxChars with a note. */
function textView(base: ResponseView, body: string, maxChars: number): ResponseView {
  const totalBytes = Buffer.byteLength(body, 'utf8');
  let kind: BodyKind = 'text';
  let text = body;
  const ct = base.contentType;
  if (/json/.test(ct) || ((!ct || ct === 'text/plain') && /^[[{"]/.test(body.trimStart()))) {
    try {
      text = JSON.stringify(JSON.parse(body), null, 2);
      kind = 'json';
    } catch {
      // not JSON after all: show as text
    }
  }
  if (text.length <= maxChars) {
    return { ...base, totalBytes, kind, text };
  }
  const note = `Body truncated: showing the first ${formatBytes(maxChars)} of ${formatBytes(totalBytes)}. Use "Copy as curl" to get all of it.`;
  return { ...base, totalBytes, kind, text: text.slice(0, maxChars), truncated: true, note };
}

export function toResponseView(r: SendRequestResult, maxChars = MAX_TEXT_CHARS): ResponseView {
  const contentType = (header(r.headers ?? {}, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
  const base: ResponseView = {
    status: r.status,
    statusText: REASONS[r.status] ?? '',
    elapsedMs: Math.round(r.elapsedMs ?? 0),
    headers: Object.entries(r.headers ?? {}),
    contentType,
    kind: 'empty',
    totalBytes: 0,
    truncated: false,
  };
  const body = r.body ?? '';
  if (!body) {
    return base;
  }
  return r.isBase64 ? binaryView(base, body) : textView(base, body, maxChars);
}
