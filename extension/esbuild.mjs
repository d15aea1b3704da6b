// Bundles the extension into dist/extension.js (vscode stays external; everything else is inlined).
import * as esbuild from 'esbuild';
import * as fs from 'fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

fs.rmSync('dist', { recursive: true, force: true });

const ctx = await esbuild.context({
  entryPoints: ['extension/src/extension.ts'],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outfile: 'dist/extension.js',
  external: ['vscode'],
  sourcemap: !production,
  minify: production,
  legalComments: production ? 'none' : 'inline',
  logLevel: 'info',
});
if (watch) {
  await ctx.watch();
} else {
  await ctx.rebuild();
  await ctx.dispose();
}
