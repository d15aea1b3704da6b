/**
 * Where the extension writes what it does. Two output channels: "AzureML Scoring", a log
 * channel with levels for the extension and the daemon (and the LSP trace when
 * `azmlinfsrv.trace.server` asks for it), and "AzureML Scoring Server", the scoring server's
 * own output as it prints it.
 */
import type * as vscode from 'vscode';

export interface LogView {
  appendLine(line: string): void;
  show(preserveFocus?: boolean): void;
}

/** A LogView that can also say a line is an error (a LogOutputChannel can). */
interface ErrorLog extends LogView {
  error(line: string): void;
}

/** Logs `line` at error level where the view has levels. */
export function logError(logs: LogView, line: string): void {
  if (typeof (logs as Partial<ErrorLog>).error === 'function') {
    (logs as ErrorLog).error(line);
  } else {
    logs.appendLine(line);
  }
}

/** The message of an Error (or anything thrown), for one log line or notification. */
export function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) {
    return String((e as { message: unknown }).message);
  }
  return String(e);
}

export type Level = 'error' | 'warn' | 'info' | 'debug';

// vscode-languageclient's own lines: "[Error - 10:42:01 AM] message"; its LSP trace: "[Trace - ...]" / "[LSP   - ...]".
const CLIENT_LINE = /^\[(Error|Warn|Info|Debug|Trace|LSP)\s*-\s*[^\]]*\]\s?(.*)$/s;
// The daemon's Python logging on stderr: "2026-12-07 10:42:01,123 WARNING azmlinfsrv.daemon - message".
const PYTHON_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (CRITICAL|ERROR|WARNING|INFO|DEBUG) (.*)$/s;
const LEVELS: Record<string, Level> = {
  Error: 'error',
  Warn: 'warn',
  Info: 'info',
  Debug: 'debug',
  // The trace is asked for by its own setting: shown at info, so no log level must be changed too.
  Trace: 'info',
  LSP: 'info',
  CRITICAL: 'error',
  ERROR: 'error',
  WARNING: 'warn',
  INFO: 'info',
  DEBUG: 'debug',
};

/**
 * The level of one line the language client writes, and its text without the client's own
 * level-and-time prefix (the log channel adds both). A line with no level of its own (the
 * rest of a traceback, a trace's JSON) keeps the level of the line before it.
 */
export function lineLevel(line: string, previous: Level = 'info'): { level: Level; text: string } {
  const client = CLIENT_LINE.exec(line);
  if (client) {
    // A trace line keeps its "[Trace - time]" mark: it tells the LSP traffic from the rest.
    const trace = client[1] === 'Trace' || client[1] === 'LSP';
    return { level: LEVELS[client[1]], text: trace ? line : client[2] };
  }
  const python = PYTHON_LINE.exec(line);
  if (python) {
    return { level: LEVELS[python[1]], text: python[2] };
  }
  return { level: previous, text: line };
}

/**
 * An OutputChannel for vscode-languageclient that files each line under its level in `log`
 * (the client only knows plain channels: its `[Error - time]` prefixes and the daemon's
 * stderr become levels the user can filter).
 */
export function levelledChannel(log: vscode.LogOutputChannel): vscode.OutputChannel {
  let partial = '';
  let last: Level = 'info';
  const write = (line: string) => {
    const { level, text } = lineLevel(line, last);
    last = level;
    log[level](text);
  };
  return {
    name: log.name,
    append(value: string) {
      const lines = (partial + value).split(/\r?\n/);
      partial = lines.pop() ?? '';
      lines.forEach(write);
    },
    appendLine(value: string) {
      write(partial + value);
      partial = '';
    },
    replace: (value: string) => log.replace(value),
    clear: () => log.clear(),
    show: (a?: unknown, b?: boolean) => log.show(typeof a === 'boolean' ? a : b),
    hide: () => log.hide(),
    dispose: () => undefined, // the extension owns the channel
  };
}
