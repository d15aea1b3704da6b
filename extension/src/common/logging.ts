/** Where the extension writes what it does: the "AzureML Scoring" output channel. */

export interface LogView {
  appendLine(line: string): void;
  show(preserveFocus?: boolean): void;
}

/** The message of an Error (or anything thrown), for one log line or notification. */
export function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) {
    return String((e as { message: unknown }).message);
  }
  return String(e);
}
