/** Which score.py a command acts on: the argument, the active score.py, the setting, or a pick. */
import * as path from 'path';

const TOP_LEVEL_DEF = (name: string) => new RegExp(`^(async\\s+)?def\\s+${name}\\s*\\(`, 'm');

export function definesInitAndRun(text: string): boolean {
  return TOP_LEVEL_DEF('init').test(text) && TOP_LEVEL_DEF('run').test(text);
}

export function isScoreFileName(fileName: string): boolean {
  const base = path.basename(fileName).toLowerCase();
  return base.endsWith('.py') && base.includes('score');
}

/** A Python file that is an entry script: named like *score*.py, or defining init() and run(). */
export function looksLikeScoreScript(fileName: string, text: string): boolean {
  return fileName.toLowerCase().endsWith('.py') && (isScoreFileName(fileName) || definesInitAndRun(text));
}

export const SCORE_GLOB = '**/*score*.py';
export const EXCLUDE_GLOB = '**/{.venv,venv,.git,node_modules,site-packages,__pycache__,.tox}/**';

export interface EntryScriptDeps {
  explicit?: string;
  active?: { fileName: string; text: string };
  setting: string;
  findCandidates: () => Promise<string[]>;
  pick: (candidates: string[]) => Promise<string | undefined>;
}

export async function resolveEntryScript(d: EntryScriptDeps): Promise<string | undefined> {
  if (d.explicit) {
    return d.explicit;
  }
  if (d.active && looksLikeScoreScript(d.active.fileName, d.active.text)) {
    return d.active.fileName;
  }
  if (d.setting) {
    return d.setting;
  }
  const found = (await d.findCandidates()).filter((f) => isScoreFileName(f)).sort(byPreference);
  if (found.length === 0) {
    return undefined;
  }
  if (found.length === 1) {
    return found[0];
  }
  return d.pick(found);
}

/** score.py before other *score*.py, shallower before deeper, then alphabetical. */
export function byPreference(a: string, b: string): number {
  const exact = (f: string) => (path.basename(f).toLowerCase() === 'score.py' ? 0 : 1);
  const depth = (f: string) => f.split(/[\\/]/).length;
  return exact(a) - exact(b) || depth(a) - depth(b) || a.localeCompare(b);
}

/** model/ next to the script, the layout of the examples and of `az ml` projects. */
export function defaultModelDir(scriptPath: string, isDir: (p: string) => boolean): string | undefined {
  const candidate = path.join(path.dirname(scriptPath), 'model');
  return isDir(candidate) ? candidate : undefined;
}
