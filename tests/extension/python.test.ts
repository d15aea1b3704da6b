import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkDaemonImportable, installCommand, isAzmlinfsrvProject, resolveInterpreter, shellQuote, venvPython } from '../../extension/src/common/python';

const REPO = path.resolve(__dirname, '..', '..', '..');

describe('interpreter discovery', () => {
  const none = () => false;

  it('prefers the explicit azmlinfsrv.pythonPath setting', async () => {
    const r = await resolveInterpreter({ settingPath: '/opt/py/bin/python', pythonExtension: async () => '/ext/python', workspaceFolders: ['/ws'], exists: () => true });
    assert.deepEqual(r, { path: '/opt/py/bin/python', source: 'setting' });
  });

  it('uses the Python extension when no setting is given', async () => {
    const r = await resolveInterpreter({ settingPath: '', pythonExtension: async () => '/ext/python', workspaceFolders: ['/ws'], exists: () => true });
    assert.deepEqual(r, { path: '/ext/python', source: 'python-extension' });
  });

  it('falls back to the workspace .venv when the Python extension has nothing or fails', async () => {
    const exists = (p: string) => p === path.join('/ws', '.venv', 'bin', 'python');
    assert.deepEqual(await resolveInterpreter({ settingPath: '', pythonExtension: async () => undefined, workspaceFolders: ['/ws'], exists, platform: 'linux' }), {
      path: '/ws/.venv/bin/python',
      source: 'workspace-venv',
    });
    const failing = async (): Promise<string> => {
      throw new Error('python extension not ready');
    };
    assert.equal((await resolveInterpreter({ settingPath: '', pythonExtension: failing, workspaceFolders: ['/ws'], exists, platform: 'linux' })).source, 'workspace-venv');
  });

  it('looks in every workspace folder, in order', async () => {
    const exists = (p: string) => p.startsWith('/b/');
    const r = await resolveInterpreter({ settingPath: '', workspaceFolders: ['/a', '/b'], exists, platform: 'linux' });
    assert.equal(r.path, '/b/.venv/bin/python');
  });

  it('ends with python3 (python on Windows)', async () => {
    assert.deepEqual(await resolveInterpreter({ settingPath: '', workspaceFolders: ['/ws'], exists: none, platform: 'linux' }), { path: 'python3', source: 'default' });
    assert.equal((await resolveInterpreter({ settingPath: '', workspaceFolders: [], exists: none, platform: 'win32' })).path, 'python');
    assert.ok(venvPython('C:\\ws', 'win32')[0].endsWith(path.join('Scripts', 'python.exe')));
  });
});

describe('daemon importability and install command', () => {
  it('recognises this project by its pyproject name', () => {
    assert.ok(isAzmlinfsrvProject('[build-system]\nrequires = []\n\n[project]\nname = "azmlinfsrv"\nversion = "1"\n'));
    assert.ok(isAzmlinfsrvProject(fs.readFileSync(path.join(REPO, 'pyproject.toml'), 'utf8')));
    assert.ok(!isAzmlinfsrvProject('[project]\nname = "my-model"\n[tool.x]\nname = "azmlinfsrv"\n'));
    assert.ok(!isAzmlinfsrvProject('[tool.poetry]\nname = "azmlinfsrv-demo"\n'));
  });

  it('installs the workspace in editable mode when it is this project', () => {
    const read = (p: string) => (p === path.join('/repo', 'pyproject.toml') ? '[project]\nname = "azmlinfsrv"\n' : undefined);
    const c = installCommand('/repo/.venv/bin/python', ['/other', '/repo'], read);
    assert.deepEqual(c.args, ['-m', 'pip', 'install', '-e', '/repo[daemon]']);
    assert.equal(c.display, "/repo/.venv/bin/python -m pip install -e '/repo[daemon]'");
  });

  it('installs the package from the index otherwise', () => {
    const c = installCommand('/usr/bin/python3', ['/ws'], () => undefined);
    assert.deepEqual(c.args, ['-m', 'pip', 'install', 'azmlinfsrv[daemon]']);
    assert.equal(c.display, "/usr/bin/python3 -m pip install 'azmlinfsrv[daemon]'");
  });

  it('quotes for a POSIX shell', () => {
    assert.equal(shellQuote('plain/path-1.py'), 'plain/path-1.py');
    assert.equal(shellQuote("it's here"), `'it'\\''s here'`);
  });

  it('reports a missing interpreter', async () => {
    const r = await checkDaemonImportable(path.join(os.tmpdir(), 'no-such-python-here'));
    assert.equal(r.ok, false);
    assert.match(r.detail ?? '', /was not found/);
  });

  it('reports the import error of an interpreter without the daemon', async function () {
    const fake = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'azml-py-')), 'python');
    fs.writeFileSync(fake, '#!/bin/sh\necho "ModuleNotFoundError: No module named \'azmlinfsrv\'" >&2\nexit 1\n', { mode: 0o755 });
    const r = await checkDaemonImportable(fake);
    assert.equal(r.ok, false);
    assert.equal(r.detail, "ModuleNotFoundError: No module named 'azmlinfsrv'");
  });

  it('accepts the repository venv when the daemon is installed there', async function () {
    const py = path.join(REPO, '.venv', 'bin', 'python');
    if (!fs.existsSync(py)) {
      this.skip();
    }
    const r = await checkDaemonImportable(py);
    assert.equal(r.ok, true, r.detail);
  });
});
