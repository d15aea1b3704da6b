/** Per-workspace history of sent requests (kept in the workspace Memento). */

export interface HistoryEntry {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  bodyFile?: string;
  time: string;
  status?: number;
  elapsedMs?: number;
}

export interface MementoLike {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

export const HISTORY_KEY = 'azmlinfsrv.requestHistory';
/** Bodies larger than this are not stored (the memento is not a blob store). */
export const MAX_STORED_BODY = 256 * 1024;

function sameRequest(a: HistoryEntry, b: HistoryEntry): boolean {
  return (
    a.method === b.method &&
    a.path === b.path &&
    a.body === b.body &&
    a.bodyFile === b.bodyFile &&
    JSON.stringify(a.headers) === JSON.stringify(b.headers)
  );
}

export class RequestHistory {
  constructor(
    private readonly memento: MementoLike,
    private readonly max = 20,
  ) {}

  list(): HistoryEntry[] {
    const v = this.memento.get<HistoryEntry[]>(HISTORY_KEY);
    return Array.isArray(v) ? v : [];
  }

  /** Most recent first; a repeated request moves to the top instead of appearing twice. */
  async add(entry: HistoryEntry): Promise<HistoryEntry[]> {
    if (entry.body.length > MAX_STORED_BODY) {
      return this.list();
    }
    const next = [entry, ...this.list().filter((e) => !sameRequest(e, entry))].slice(0, this.max);
    await this.memento.update(HISTORY_KEY, next);
    return next;
  }

  async clear(): Promise<void> {
    await this.memento.update(HISTORY_KEY, []);
  }
}

export function historyLabel(e: HistoryEntry): string {
  const t = new Date(e.time);
  const hhmm = isNaN(t.getTime()) ? '' : ` ${t.toLocaleTimeString()}`;
  return `${e.method} ${e.path}${e.status !== undefined ? ` → ${e.status}` : ''}${hhmm}`;
}
