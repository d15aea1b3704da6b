/** The manifest as a real package: license, icon, no placeholder fields, trust, walkthrough. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { COMMANDS, CONTEXT_KEYS } from '../../extension/src/common/constants';

const REPO = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const vscodeignore = fs.readFileSync(path.join(REPO, '.vscodeignore'), 'utf8').split(/\r?\n/);
/** `npm run package` runs extension/package.mjs, which calls vsce: its flags are in that file. */
const packageScript = fs.readFileSync(path.join(REPO, 'extension', 'package.mjs'), 'utf8');

/** True when .vscodeignore lets `file` into the .vsix (vsce: a `!` pattern wins over `**`). */
function packaged(file: string): boolean {
  const glob = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\0').replace(/\*/g, '[^/]*').replace(/\0/g, '.*')}$`);
  return vscodeignore.some((l) => l.startsWith('!') && glob(l.slice(1)).test(file));
}

describe('package manifest', () => {
  it('ships the MIT LICENSE of pyproject.toml', () => {
    assert.equal(manifest.license, 'MIT');
    assert.match(fs.readFileSync(path.join(REPO, 'pyproject.toml'), 'utf8'), /^license = \{ text = "MIT" \}$/m);
    assert.match(fs.readFileSync(path.join(REPO, 'LICENSE'), 'utf8'), /^MIT License\n/);
    assert.ok(packaged('LICENSE'));
    assert.equal(manifest.scripts.package, 'node extension/package.mjs');
    assert.ok(!/--skip-license/.test(packageScript));
  });

  it('has a square PNG icon of at least 128 px, packaged', () => {
    const icon = fs.readFileSync(path.join(REPO, manifest.icon));
    assert.deepEqual([...icon.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    const [width, height] = [icon.readUInt32BE(16), icon.readUInt32BE(20)];
    assert.equal(width, height);
    assert.ok(width >= 128, `${width} px`);
    assert.ok(packaged(manifest.icon));
    assert.ok(!packaged('extension/media/draw_icon.py'), 'the drawing script stays out');
  });

  it('names no invented repository or homepage', () => {
    const text = JSON.stringify(manifest);
    assert.ok(!/example\.(invalid|com)|TODO|placeholder/i.test(text));
    // No public URL exists for this project yet: the fields are absent, and vsce is told so.
    assert.equal(manifest.repository, undefined);
    assert.equal(manifest.homepage, undefined);
    assert.match(packageScript, /'--allow-missing-repository'/);
  });

  it('ships the Python side (launcher, azmlinfsrv, libraries), not its build script or pins', () => {
    for (const f of ['bundled/tool/launch.py', 'bundled/app/azmlinfsrv/__init__.py', 'bundled/libs/flask/__init__.py', 'bundled/libs/psutil/_psutil_linux.abi3.so']) {
      assert.ok(packaged(f), f);
    }
    for (const f of ['bundled/build.py', 'bundled/requirements.txt', 'src/azmlinfsrv/__init__.py']) {
      assert.ok(!packaged(f), f);
    }
    assert.ok(vscodeignore.includes('bundled/**/__pycache__/**') && vscodeignore.includes('bundled/**/*.pyc'), 'no bytecode caches');
    assert.match(packageScript, /'--target',\s*target/, 'a platform-specific package');
  });

  it('declares limited support in untrusted folders', () => {
    const u = manifest.capabilities.untrustedWorkspaces;
    assert.equal(u.supported, 'limited');
    assert.match(u.description, /untrusted folder nothing is started/);
    assert.deepEqual(u.restrictedConfigurations.sort(), ['azmlinfsrv.entryScript', 'azmlinfsrv.env', 'azmlinfsrv.modelDir', 'azmlinfsrv.pythonPath']);
  });

  it('activates on Python workspaces, not on every Python file', () => {
    assert.deepEqual(manifest.activationEvents, ['workspaceContains:**/*.py', 'onDebugResolve:azmlinfsrv-debugpy', 'onDebugResolve:azmlinfsrv', 'onDebugInitialConfigurations', 'onDebugDynamicConfigurations:azmlinfsrv']);
    for (const m of manifest.contributes.menus['editor/title/run']) {
      assert.equal(m.when, CONTEXT_KEYS.isScoringScript);
    }
  });

  it('walks through open score.py -> start -> send a request -> debug, with packaged media', () => {
    const [walk] = manifest.contributes.walkthroughs;
    assert.deepEqual(
      walk.steps.map((s: { id: string }) => s.id),
      ['openScoringScript', 'startServer', 'sendRequest', 'debug'],
    );
    const linked = walk.steps.map((s: { description: string }) => /\(command:([\w.]+)/.exec(s.description)?.[1]);
    assert.deepEqual(linked, ['workbench.action.quickOpen', COMMANDS.start, COMMANDS.sendRequest, COMMANDS.debug]);
    assert.deepEqual(walk.steps[0].completionEvents, [`onContext:${CONTEXT_KEYS.isScoringScript}`]);
    for (const step of walk.steps) {
      const media = step.media.image ?? step.media.markdown;
      assert.ok(fs.existsSync(path.join(REPO, media)), media);
      assert.ok(packaged(media), `${media} in the .vsix`);
    }
  });
});
