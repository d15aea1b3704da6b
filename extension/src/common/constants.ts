/**
 * The names VS Code knows this extension by, spelled once. package.json's `contributes`
 * must use the same ones (tests/extension/constants.test.ts checks that it does).
 */

/** The settings section: `azmlinfsrv.pythonPath`, `azmlinfsrv.port`, ... */
export const SECTION = 'azmlinfsrv';

export const COMMANDS = {
  start: 'azmlinfsrv.start',
  stop: 'azmlinfsrv.stop',
  restart: 'azmlinfsrv.restart',
  debug: 'azmlinfsrv.debug',
  attach: 'azmlinfsrv.attach',
  sendRequest: 'azmlinfsrv.sendRequest',
  showLogs: 'azmlinfsrv.showLogs',
  statusMenu: 'azmlinfsrv.statusMenu',
  goToError: 'azmlinfsrv.goToError',
} as const;

export const OUTPUT_CHANNEL_NAME = 'AzureML Scoring';
/** The scoring server's own output (its log lines), apart from the extension's and the daemon's. */
export const SERVER_LOG_CHANNEL_NAME = 'AzureML Scoring Server';
export const STATUS_BAR_ID = 'azmlinfsrv.status';
export const PYTHON_EXTENSION_ID = 'ms-python.python';
/** `python -m` target of the language daemon (src/azmlinfsrv/daemon). */
export const DAEMON_MODULE = 'azmlinfsrv.daemon';

/** `when`-clause context keys set by scoringWorkspace.ts (package.json's menus use them). */
export const CONTEXT_KEYS = {
  /** The active editor is a scoring script. */
  isScoringScript: 'azmlinfsrv.isScoringScript',
  /** The workspace holds a scoring script. */
  hasScoringScript: 'azmlinfsrv.workspaceHasScoringScript',
  /** The daemon's server state: stopped | starting | running | failed (set by statusBar.ts). */
  serverState: 'azmlinfsrv.serverState',
  /** The state the status bar shows (statusText.ts ShownState: also paused, reloadFailed, ...). */
  shownState: 'azmlinfsrv.shownState',
} as const;

/** workspaceState key: the interpreters the "cannot run with" message was already shown for (the key's name is older). */
export const PROMPTED_KEY = 'azmlinfsrv.installPromptShown';
