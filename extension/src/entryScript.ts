/**
 * What a scoring script is, and which one a command acts on: the argument, the active
 * scoring script, the setting, or a pick among the workspace's scoring scripts.
 */
import * as path from 'path';

const TOP_LEVEL_DEF = (name: string) => new RegExp(`^(async\\s+)?def\\s+${name}\\s*\\(`, 'm');

export function definesInitAndRun(text: string): boolean {
  return TOP_LEVEL_DEF('init').test(text) && TOP_LEVEL_DEF('run').test(text);
}

function samePath(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b);
}

/**
 * A scoring script: a .py with top-level init() and run(), or the configured entry script.
 * A name alone does not make one (test_score.py, f1_score.py are ordinary modules).
 */
export function isScoringScript(fileName: string, text: string, entryScriptSetting = ''): boolean {
  if (!fileName.toLowerCase().endsWith('.py')) {
    return false;
  }
  return definesInitAndRun(text) || (!!entryScriptSetting && samePath(fileName, entryScriptSetting));
}

export const PYTHON_GLOB = '**/*.py';
export const EXCLUDE_GLOB = '**/{.venv,venv,.git,node_modules,site-packages,__pycache__,.tox}/**';

export interface EntryScriptDeps {
  explicit?: string;
  active?: { fileName: string; text: string };
  setting: string;
  /** The workspace's scoring scripts (already checked for init() and run()). */
  findCandidates: () => Promise<string[]>;
  pick: (candidates: string[]) => Promise<string | undefined>;
}

export async function resolveEntryScript(d: EntryScriptDeps): Promise<string | undefined> {
  if (d.explicit) {
    return d.explicit;
  }
  if (d.active && isScoringScript(d.active.fileName, d.active.text)) {
    return d.active.fileName;
  }
  if (d.setting) {
    return d.setting;
  }
  const found = [...(await d.findCandidates())].sort(byPreference);
  if (found.length <= 1) {
    return found[0];
  }
  return d.pick(found);
}

/** score.py, then other *score*.py, then the rest; shallower before deeper; then alphabetical. */
export function byPreference(a: string, b: string): number {
  const rank = (f: string) => {
    const base = path.basename(f).toLowerCase();
    return base === 'score.py' ? 0 : base.includes('score') ? 1 : 2;
  };
  const depth = (f: string) => f.split(/[\\/]/).length;
  return rank(a) - rank(b) || depth(a) - depth(b) || a.localeCompare(b);
}

/** model/ next to the script, the layout of the examples and of `az ml` projects. */
export function defaultModelDir(scriptPath: string, isDir: (p: string) => boolean): string | undefined {
  const candidate = path.join(path.dirname(scriptPath), 'model');
  return isDir(candidate) ? candidate : undefined;
}

/** Bounds on the workspace scan: a scoring script is a small file near the top of the tree. */
export const SCAN_LIMITS = { files: 2000, bytes: 1024 * 1024 };

export interface ScanDeps {
  /** The workspace's .py files (at most SCAN_LIMITS.files). */
  listPython(): Promise<string[]>;
  /** The file's text, or undefined when it cannot be read or is over SCAN_LIMITS.bytes. */
  read(file: string): Promise<string | undefined>;
}

/** The workspace's scoring scripts, most likely first; with `first`, stops at the first one. */
export async function findScoringScripts(deps: ScanDeps, first = false): Promise<string[]> {
  const found: string[] = [];
  for (const file of [...(await deps.listPython())].sort(byPreference)) {
    const text = await deps.read(file);
    if (text !== undefined && isScoringScript(file, text)) {
      found.push(file);
      if (first) {
        break;
      }
    }
  }
  return found;
}
