/**
 * Every word the extension shows about the server's state: the status bar (text, colour,
 * tooltip, click), the start progress, the menu's placeholder and the context key. One state
 * drives them all: the daemon's status plus what only the editor knows (a debug session of ours
 * paused at a breakpoint, a reload that just worked).
 */
import * as path from 'path';
import { COMMANDS } from '../common/constants';
import { ServerState, ServerStatus } from '../protocol';

/** A server that is, or is about to be, serving: what stop, restart and attach act on. */
export function isActive(s: ServerStatus): boolean {
  return s.state === 'running' || s.state === 'starting';
}

/** What only the editor knows about the server. */
export interface ViewFlags {
  /** A debug session of ours is stopped at a breakpoint (requests wait). */
  paused?: boolean;
  /** The last reload worked a moment ago (shown for a few seconds). */
  reloaded?: boolean;
}

export type ShownState = 'stopped' | 'starting' | 'paused' | 'running' | 'reloading' | 'reloaded' | 'reloadFailed' | 'failed';

/** The one state shown everywhere, from the daemon's status and the editor's flags. */
export function shownState(s: ServerStatus, f: ViewFlags = {}): ShownState {
  if (s.state === 'stopped' || s.state === 'failed') {
    return s.state;
  }
  if (f.paused) {
    return 'paused';
  }
  if (s.state === 'starting') {
    return 'starting';
  }
  if (s.reloading) {
    return 'reloading';
  }
  if (s.lastReload && !s.lastReload.ok) {
    return 'reloadFailed';
  }
  return f.reloaded ? 'reloaded' : 'running';
}

/** True when `next` brings a reload that worked and `prev` had not seen. */
export function isNewReload(prev: ServerStatus, next: ServerStatus): boolean {
  const r = next.lastReload;
  return !!r?.ok && next.state === 'running' && r.time !== prev.lastReload?.time;
}

/** The first line of an error, cut to `max` characters: for the status bar. */
export function firstLine(text: string | null | undefined, max = 70): string {
  const line = (text ?? '').split(/\r?\n/)[0].trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** What a start is doing, in words: the progress message and the status bar while starting. */
export function startingWords(s: ServerStatus, f: ViewFlags = {}): string {
  if (f.paused) {
    return 'paused in the debugger';
  }
  const script = s.entryScript ? path.basename(s.entryScript) : 'the entry script';
  switch (s.phase) {
    case 'waitingForDebugger':
      return 'waiting for the debugger';
    case 'importing':
      return `importing ${script}`;
    case 'init':
      return 'running init()';
    default:
      return 'starting the server';
  }
}

/** One sentence: "score.py running at http://127.0.0.1:5001 (debug)". */
export function describe(s: ServerStatus): string {
  const script = s.entryScript ? path.basename(s.entryScript) : 'scoring server';
  switch (s.state) {
    case 'running': {
      const reload = s.lastReload && !s.lastReload.ok ? '; the last reload failed' : '';
      return `${script} running${s.url ? ` at ${s.url}` : ''}${s.debug ? ' (debug)' : ''}${reload}`;
    }
    case 'starting':
      return `${script} starting…${s.debug ? ' (debug)' : ''}`;
    case 'failed':
      return `${script} failed${s.error ? `: ${s.error}` : ''}`;
    default:
      return 'Scoring server stopped';
  }
}

export interface StatusPresentation {
  text: string;
  tooltip: string;
  /** 'error' | 'warning' background, or undefined for the default. */
  background?: 'error' | 'warning';
  /** What a click on the status bar item runs. */
  command: string;
}

const CLICK = '\nClick for actions';

function runningText(s: ServerStatus, icon: string, tail = ''): string {
  return `${icon} Scoring: running${s.port ? ` :${s.port}` : ''}${s.debug ? ' (debug)' : ''}${tail}`;
}

function workersLine(s: ServerStatus): string {
  const pid = s.pid ? `\nServer PID: ${s.pid}` : '';
  return `${pid}${s.workerPids?.length ? `\nWorkers: ${s.workerPids.join(', ')}` : ''}`;
}

/** The running variants: plain, reloading, just reloaded, last reload failed. */
function formatRunning(s: ServerStatus, shown: ShownState, tooltip: string): StatusPresentation {
  const menu = COMMANDS.statusMenu;
  const icon = s.debug ? '$(debug-alt)' : '$(radio-tower)';
  switch (shown) {
    case 'reloading':
      return { text: runningText(s, '$(sync~spin)', ', reloading…'), tooltip: `${tooltip}\nReloading: the new code is loading; the old code answers until it is ready.${CLICK}`, command: menu };
    case 'reloaded':
      return { text: runningText(s, '$(check)', ', reloaded'), tooltip: `${tooltip}\nReloaded: the saved code serves.${workersLine(s)}${CLICK}`, command: menu };
    case 'reloadFailed': {
      const where = s.errorLocation ? COMMANDS.goToError : menu;
      const click = s.errorLocation ? '\nClick to open the error' : CLICK;
      return {
        text: runningText(s, '$(warning)', `, reload failed: ${firstLine(s.error, 60) || 'see the logs'}`),
        tooltip: `${tooltip}: the previous code still answers.\n${s.error ?? ''}${click}`,
        background: 'warning',
        command: where,
      };
    }
    default:
      return { text: runningText(s, icon), tooltip: `${tooltip}${workersLine(s)}${CLICK}`, command: menu };
  }
}

/** Status bar text, colour, tooltip and click for the state shown. */
export function formatStatus(s: ServerStatus, f: ViewFlags = {}): StatusPresentation {
  const dbg = s.debug ? ' (debug)' : '';
  const tooltip = `AzureML: ${describe(s)}`;
  const shown = shownState(s, f);
  const menu = COMMANDS.statusMenu;
  switch (shown) {
    case 'stopped':
      return { text: '$(circle-slash) Scoring: stopped', tooltip: `${tooltip}${CLICK}`, command: menu };
    case 'failed':
      return { text: '$(error) Scoring: failed', tooltip: `${tooltip}${CLICK}`, background: 'error', command: menu };
    case 'paused':
      return {
        text: `$(debug-pause) Scoring: paused in the debugger${s.port && s.state === 'running' ? ` :${s.port}` : ''}`,
        tooltip: `${tooltip}\nA debug session is stopped at a breakpoint: requests wait until you continue (F5).${CLICK}`,
        command: menu,
      };
    case 'starting': {
      const doing = s.phase ? `: ${startingWords(s, f)}` : '';
      return { text: `$(sync~spin) Scoring: starting${doing}…${dbg}`, tooltip: `${tooltip} (${startingWords(s, f)})${CLICK}`, command: menu };
    }
    default:
      return formatRunning(s, shown, tooltip);
  }
}

/** Values of the context keys that package.json's `when` clauses read. */
export function contextValues(s: ServerStatus, f: ViewFlags = {}): { serverState: ServerState; shownState: ShownState } {
  return { serverState: s.state, shownState: shownState(s, f) };
}
