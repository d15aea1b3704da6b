/** Messages between the Send Sample Request webview (media/request.js) and the extension. */
import { HistoryEntry } from './history';
import { ResponseView } from './responseView';
import { RunFailure } from './runFailure';

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

/** One entry of the sample picker; `file` identifies it. */
export interface SampleItem {
  label: string;
  file: string;
}

/** A request's prefill: the request, where it came from, the picker's entries and choice. */
export interface Prefill {
  request: PanelRequest;
  bodyFileNote?: string;
  source: string;
  samples: SampleItem[];
  selected?: string;
}

export type ToWebview =
  | ({ type: 'init'; target?: string; history: HistoryItem[] } & Prefill)
  | ({ type: 'sample' } & Prefill)
  | { type: 'samples'; samples: SampleItem[]; selected?: string }
  | { type: 'target'; target?: string; state: string }
  | { type: 'sending'; label: string }
  | { type: 'response'; view: ResponseView }
  | { type: 'failure'; failure: RunFailure }
  | { type: 'cancelled' }
  | { type: 'error'; message: string }
  | { type: 'history'; history: HistoryItem[] };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'send'; request: PanelRequest }
  | { type: 'cancel' }
  | { type: 'copyCurl'; request: PanelRequest }
  | { type: 'clearHistory' }
  | { type: 'pickSample'; file: string }
  | { type: 'saveSample'; request: PanelRequest }
  | { type: 'saveResponse' }
  | { type: 'openResponse' }
  | { type: 'openLocation'; file: string; line: number };

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
