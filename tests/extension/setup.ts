/** Mocha setup: `vscode` and `vscode-languageclient/node` resolve to the fakes in ./fake. */
import * as path from 'path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import Module = require('module');

const fakes: Record<string, string> = {
  vscode: path.join(__dirname, 'fake', 'vscode.js'),
  'vscode-languageclient/node': path.join(__dirname, 'fake', 'languageclient.js'),
};
const M = Module as unknown as { _resolveFilename: (this: unknown, request: string, ...rest: unknown[]) => string };
const original = M._resolveFilename;
M._resolveFilename = function (request: string, ...rest: unknown[]): string {
  return fakes[request] ?? original.call(this, request, ...rest);
};
