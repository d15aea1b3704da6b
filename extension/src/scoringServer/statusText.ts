/** Every word the extension shows about the server's state: the status bar, its tooltip, the menu. */
import * as path from 'path';
import { ServerStatus } from '../protocol';

/** A server that is, or is about to be, serving: what stop, restart and attach act on. */
export function isActive(s: ServerStatus): boolean {
  return s.state === 'running' || s.state === 'starting';
}

/** One sentence: "score.py running at http://127.0.0.1:5001 (debug)". */
export function describe(s: ServerStatus): string {
  const script = s.entryScript ? path.basename(s.entryScript) : 'scoring server';
  switch (s.state) {
    case 'running':
      return `${script} running${s.url ? ` at ${s.url}` : ''}${s.debug ? ' (debug)' : ''}`;
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
}

const CLICK = '\nClick for actions';

/** Status bar text (stopped / starting… / running :port / failed) and a tooltip built on describe(). */
export function formatStatus(s: ServerStatus): StatusPresentation {
  const dbg = s.debug ? ' (debug)' : '';
  const tooltip = `AzureML: ${describe(s)}`;
  switch (s.state) {
    case 'starting':
      return { text: `$(sync~spin) Scoring: starting…${dbg}`, tooltip: `${tooltip} (loading score.py, running init())` };
    case 'running': {
      const pid = s.pid ? `\nServer PID: ${s.pid}` : '';
      const workers = s.workerPids?.length ? `\nWorkers: ${s.workerPids.join(', ')}` : '';
      return {
        text: `${s.debug ? '$(debug-alt)' : '$(radio-tower)'} Scoring: running${s.port ? ` :${s.port}` : ''}${dbg}`,
        tooltip: `${tooltip}${pid}${workers}${CLICK}`,
      };
    }
    case 'failed':
      return { text: '$(error) Scoring: failed', tooltip: `${tooltip}${CLICK}`, background: 'error' };
    default:
      return { text: '$(circle-slash) Scoring: stopped', tooltip: `${tooltip}${CLICK}` };
  }
}
