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
  cancelRequest: 'azmlinfsrv.daemon.cancelRequest',
  listCases: 'azmlinfsrv.daemon.listCases',
  runCases: 'azmlinfsrv.daemon.runCases',
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
  /** Names the request for cancelRequest (the panel's Cancel). */
  requestId?: string;
}

export interface SendRequestResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  isBase64: boolean;
  elapsedMs: number;
}

/** listCases: the sample-request cases of a scoring script (docs/validation.md). */
export interface ListCasesArgs {
  entryScript: string;
  /** A folder or file, relative to the script's folder; default: sample-requests/, else sample-request.json. */
  cases?: string;
}

/** runCases: `ids` (default all); modelDir, workerCount, env only for a server started for the run. */
export interface RunCasesArgs {
  entryScript: string;
  ids?: string[];
  cases?: string;
  modelDir?: string;
  workerCount?: number;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** CaseLocation, CaseInfo and CaseResult mirror src/azmlinfsrv/daemon/cases.py (tests/daemon/test_protocol.py). */
export interface CaseLocation {
  file: string;
  /** 1-based. */
  line: number;
}

export interface CaseInfo {
  id: string;
  name: string;
  file: string;
  line: number;
  kind: string;
  method: string;
  path: string;
  description?: string;
  expectedFile?: string;
  /** The case file cannot be read: running it is an error. */
  error?: string;
}

export type CaseVerdict = 'passed' | 'failed' | 'error';

export interface CaseResult {
  id: string;
  name: string;
  file: string;
  verdict: CaseVerdict;
  message: string;
  /** Pretty JSON or text of the expected and actual answers, for a diff. */
  expected?: string;
  actual?: string;
  location?: CaseLocation;
  elapsedMs?: number;
  /** The HTTP status of the answer. */
  status?: number;
}

export interface ListCasesResult {
  entryScript: string;
  casesPath: string | null;
  cases: CaseInfo[];
  message?: string;
}

export interface RunCasesResult {
  entryScript: string;
  casesPath: string;
  /** The daemon's own server ('running') or one started for this run and stopped after it ('started'). */
  server?: { source: 'running' | 'started'; url: string; pid?: number | null };
  /** The server started for the run did not serve: why, and the user's line. */
  serverError?: { message: string; location?: CaseLocation };
  results: CaseResult[];
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
