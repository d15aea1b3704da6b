import { shellQuote } from './common/python';

export interface CurlRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Path of the file that holds a binary body (sample-request.json's bodyFile). */
  bodyFile?: string;
  isBase64?: boolean;
}

export function joinUrl(baseUrl: string, p: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  if (!p) {
    return base + '/';
  }
  return base + (p.startsWith('/') ? p : '/' + p);
}

/** A POSIX shell command that replays the request with curl. */
export function toCurl(req: CurlRequest, baseUrl: string): string {
  const method = (req.method || 'POST').toUpperCase();
  const parts = ['curl', '-sS', '-X', method, shellQuote(joinUrl(baseUrl, req.path))];
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    parts.push('-H', shellQuote(`${k}: ${v}`));
  }
  let prefix = '';
  if (req.bodyFile) {
    parts.push('--data-binary', '@' + shellQuote(req.bodyFile));
  } else if (req.body && req.isBase64) {
    prefix = `printf %s ${shellQuote(req.body)} | base64 -d | `;
    parts.push('--data-binary', '@-');
  } else if (req.body) {
    parts.push('--data-binary', shellQuote(req.body));
  }
  return prefix + parts.join(' ');
}
