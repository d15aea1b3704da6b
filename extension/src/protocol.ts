/**
 * The daemon's LSP interface (python -m azmlinfsrv.daemon), as the extension relies on it.
 * Names here are fixed by the daemon; docs/daemon.md describes that interface.
 */

export const DaemonCommands = {
  startServer: 'azmlinfsrv.daemon.startServer',
  stopServer: 'azmlinfsrv.daemon.stopServer',
  status: 'azmlinfsrv.daemon.status',
  debugConfigurations: 'azmlinfsrv.daemon.debugConfigurations',
  findServers: 'azmlinfsrv.daemon.findServers',
  sendRequest: 'azmlinfsrv.daemon.sendRequest',
} as const;

export const DaemonNotifications = {
  status: 'azmlinfsrv/status',
  log: 'azmlinfsrv/log',
} as const;

/**
 * ServerState, ServerPhase, LastReload, ErrorLocation and ServerStatus mirror src/azmlinfsrv/daemon/state.py field for field;
 * tests/daemon/test_protocol.py parses this file and fails when the two differ.
 */
export type ServerState = 'stopped' | 'starting' | 'running' | 'failed';

/** What a starting server (or a reload's new workers) is doing, least advanced first. */
export type ServerPhase = 'waitingForDebugger' | 'importing' | 'init';

/** How the last reload of the server process ended; `error` says why when it failed. */
export interface LastReload {
  ok: boolean;
  /** The server's event time (Unix seconds): tells one reload from the next. */
  time: number;
}

export interface ErrorLocation {
  file: string;
  /** 1-based line, as Python tracebacks count. */
  line: number;
}

export interface ServerStatus {
  state: ServerState;
  url?: string | null;
  port?: number | null;
  pid?: number | null;
  workerPids?: number[];
  entryScript?: string | null;
  debug?: boolean;
  error?: string | null;
  errorLocation?: ErrorLocation | null;
  /** While starting, or while a reload's new workers load. */
  phase?: ServerPhase | null;
  /** A reload's new workers are loading; the old ones serve. */
  reloading?: boolean;
  lastReload?: LastReload | null;
  /** With debug: true, the attach configurations of the current workers. */
  debugConfigurations?: AttachConfiguration[];
}

export interface StartServerArgs {
  entryScript: string;
  modelDir?: string;
  port?: number;
  workerCount?: number;
  env?: Record<string, string>;
  debug?: boolean;
}

/** A debugpy attach configuration as the daemon hands it out. */
export interface AttachConfiguration {
  type: string;
  request: 'attach';
  name?: string;
  connect?: { host: string; port: number };
  processId?: number;
  justMyCode?: boolean;
  [key: string]: unknown;
}

export interface DebugConfigurationsResult {
  configurations: AttachConfiguration[];
  /** Set by the daemon when it cannot produce a configuration (e.g. PID injection impossible). */
  error?: string;
  message?: string;
}

export interface FoundServer {
  pid: number;
  workerPids: number[];
  port?: number | null;
  entryScript?: string | null;
}

export interface SendRequestArgs {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Binary body, base64 (docs/daemon.md); used for sample-request.json's bodyFile. */
  bodyBase64?: string;
  timeoutMs?: number;
}

export interface SendRequestResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  isBase64: boolean;
  elapsedMs: number;
}

export interface InitializationOptions {
  reloadOnSave: boolean;
  entryScript?: string;
  /** false: the daemon sends no "Starting scoring server" progress (the extension shows its own). */
  startProgress?: boolean;
}

/** What the rest of the extension needs from a running daemon. */
export interface DaemonConnection {
  command<T>(name: string, arg: object): Promise<T>;
}
