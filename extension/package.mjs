// `npm run package [-- --target linux-x64]`: the Python side for one platform (bundled/build.py),
// then the platform-specific .vsix (vsce package --target). Without --target: this machine's
// platform, written to azmlinfsrv.vsix; with one: azmlinfsrv-<target>.vsix.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ARCH = { x64: 'x64', arm64: 'arm64' };
const hostTarget = `${process.platform}-${ARCH[process.arch] ?? process.arch}`;
const i = process.argv.indexOf('--target');
const target = i > 0 ? process.argv[i + 1] : hostTarget;
const out = target === hostTarget && i < 0 ? 'azmlinfsrv.vsix' : `azmlinfsrv-${target}.vsix`;

/** The Python that runs the builder (it needs only pip): $PYTHON, the repo's .venv, else python3/python. */
function python() {
  if (process.env.PYTHON) {
    return process.env.PYTHON;
  }
  const venv = process.platform === 'win32' ? path.join('.venv', 'Scripts', 'python.exe') : path.join('.venv', 'bin', 'python');
  return fs.existsSync(venv) ? venv : process.platform === 'win32' ? 'python' : 'python3';
}

function run(command, args) {
  console.log(`$ ${[command, ...args].join(' ')}`);
  const r = spawnSync(command, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.exit(r.status ?? 1);
  }
}

run(python(), ['bundled/build.py', 'build', '--target', target]);
run(process.execPath, [
  'node_modules/@vscode/vsce/vsce',
  'package',
  '--no-dependencies',
  '--allow-missing-repository',
  '--readme-path',
  'extension/README.md',
  '--target',
  target,
  '--out',
  out,
]);
