import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkInterpreter, daemonCommand, resolveInterpreter, shellQuote, venvPython } from '../../extension/src/common/python';

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

describe('interpreter check and the daemon command', () => {
  const script = (body: string): string => {
    const p = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'azml-py-')), 'python');
    fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return p;
  };

  it('runs the daemon through the launcher the extension carries, with the chosen interpreter', () => {
    assert.deepEqual(daemonCommand('/ext', '/venv/bin/python'), {
      command: '/venv/bin/python',
      args: [path.join('/ext', 'bundled', 'tool', 'launch.py'), 'daemon'],
    });
    assert.ok(fs.existsSync(daemonCommand(REPO, 'python3').args[0]), 'the launcher is in the repository');
  });

  it('names a missing interpreter', async () => {
    const r = await checkInterpreter(path.join(os.tmpdir(), 'no-such-python-here'));
    assert.equal(r.ok, false);
    assert.match(r.detail ?? '', /no-such-python-here was not found/);
  });

  it('refuses a Python older than 3.10, naming its version', async () => {
    const py = script('echo 3.9');
    const r = await checkInterpreter(py);
    assert.equal(r.ok, false);
    assert.equal(r.detail, `${py} is Python 3.9; azmlinfsrv needs Python 3.10 or newer`);
  });

  it('reports what a failing interpreter printed last', async () => {
    const r = await checkInterpreter(script('echo "Could not find platform independent libraries" >&2\nexit 1'));
    assert.equal(r.ok, false);
    assert.equal(r.detail, 'Could not find platform independent libraries');
  });

  it('accepts 3.10 and newer, without needing any package there', async () => {
    assert.deepEqual(await checkInterpreter(script('echo 3.10')), { ok: true });
    assert.deepEqual(await checkInterpreter(script('echo 3.14')), { ok: true });
    assert.deepEqual(await checkInterpreter(script('echo 4.0')), { ok: true });
  });

  it('accepts the real python3 of this machine', async function () {
    const r = await checkInterpreter('python3');
    assert.equal(r.ok, true, r.detail);
  });

  it('quotes for a POSIX shell (curl lines)', () => {
    assert.equal(shellQuote('plain/path-1.py'), 'plain/path-1.py');
    assert.equal(shellQuote("it's here"), `'it'\\''s here'`);
  });
});
