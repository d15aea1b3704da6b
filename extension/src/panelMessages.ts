/** Messages between the Send Sample Request webview (media/request.js) and the extension. */
import { HistoryEntry } from './history';
import { ResponseView } from './responseView';

export interface PanelRequest {
  method: string;
  path: string;
  /** Raw header lines, `Name: value` each. */
  headersText: string;
  body: string;
  /** Set while the body is a binary file from sample-request.json. */
  bodyFile?: string;
}

export type HistoryItem = HistoryEntry & { headersText: string; label: string };

export type ToWebview =
  | { type: 'init'; target?: string; request: PanelRequest; bodyFileNote?: string; source: string; history: HistoryItem[] }
  | { type: 'target'; target?: string; state: string }
  | { type: 'sending' }
  | { type: 'response'; view: ResponseView }
  | { type: 'error'; message: string }
  | { type: 'history'; history: HistoryItem[] };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'send'; request: PanelRequest }
  | { type: 'copyCurl'; request: PanelRequest }
  | { type: 'clearHistory' };

/** `Name: value` lines to a header map; blank lines and `#` comments are skipped. */
export function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) {
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) {
      continue;
    }
    out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export function formatHeaders(h: Record<string, string>): string {
  return Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
}
