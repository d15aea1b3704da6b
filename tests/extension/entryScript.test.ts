import { strict as assert } from 'assert';
import { byPreference, defaultModelDir, definesInitAndRun, findScoringScripts, isScoringScript, resolveEntryScript } from '../../extension/src/entryScript';
import { entryPointLines } from '../../extension/src/codeLens';

const SCORE = 'import json\n\ndef init():\n    pass\n\n\nasync def run(data):\n    return data\n';

describe('entry script selection', () => {
  const base = { setting: '', findCandidates: async () => [] as string[], pick: async () => undefined as string | undefined };

  it('recognises scoring scripts by top-level init()/run() or the setting, never by name', () => {
    assert.ok(isScoringScript('/w/main.py', SCORE));
    assert.ok(isScoringScript('/w/score.py', SCORE));
    assert.ok(!isScoringScript('/w/score.py', ''), 'a name alone is not enough');
    assert.ok(!isScoringScript('/w/test_score.py', 'def test_score():\n    assert True\n'));
    assert.ok(!isScoringScript('/w/f1_score.py', 'def f1_score(y, p):\n    return 1.0\n'));
    assert.ok(!isScoringScript('/w/main.py', 'def run():\n    pass\n'));
    assert.ok(!isScoringScript('/w/score.txt', SCORE));
    assert.ok(isScoringScript('/w/app/serve.py', '', '/w/app/./serve.py'), 'the configured entry script');
    assert.ok(!definesInitAndRun('class A:\n    def init(self): ...\n    def run(self): ...\n'));
  });

  it('scans the workspace for scoring scripts, most likely first, reading each file', async () => {
    const files: Record<string, string | undefined> = {
      '/w/test_score.py': 'def test_score():\n    pass\n',
      '/w/f1_score.py': 'def f1_score():\n    pass\n',
      '/w/deep/a/main.py': SCORE,
      '/w/big.py': undefined,
      '/w/b/score.py': SCORE,
    };
    const read: string[] = [];
    const scan = { listPython: async () => Object.keys(files), read: async (f: string) => (read.push(f), files[f]) };
    assert.deepEqual(await findScoringScripts(scan), ['/w/b/score.py', '/w/deep/a/main.py']);
    read.length = 0;
    assert.deepEqual(await findScoringScripts(scan, true), ['/w/b/score.py']);
    assert.deepEqual(read, ['/w/b/score.py'], 'stops at the first');
    const none = { listPython: async () => ['/w/test_score.py', '/w/f1_score.py'], read: async (f: string) => files[f] };
    assert.deepEqual(await findScoringScripts(none), []);
  });

  it('prefers an explicit argument, then the active score script, then the setting', async () => {
    assert.equal(await resolveEntryScript({ ...base, explicit: '/w/a.py', active: { fileName: '/w/score.py', text: '' }, setting: '/w/s.py' }), '/w/a.py');
    assert.equal(await resolveEntryScript({ ...base, active: { fileName: '/w/score.py', text: SCORE }, setting: '/w/s.py' }), '/w/score.py');
    assert.equal(await resolveEntryScript({ ...base, active: { fileName: '/w/test_score.py', text: 'x = 1' }, setting: '/w/s.py' }), '/w/s.py');
    assert.equal(await resolveEntryScript({ ...base, active: { fileName: '/w/util.py', text: 'x = 1' }, setting: '/w/s.py' }), '/w/s.py');
  });

  it('uses the only scoring script of the workspace, or asks', async () => {
    assert.equal(await resolveEntryScript({ ...base, findCandidates: async () => ['/w/a/score.py'] }), '/w/a/score.py');
    let offered: string[] = [];
    const picked = await resolveEntryScript({
      ...base,
      findCandidates: async () => ['/w/b/deep/score.py', '/w/x_score.py', '/w/a/score.py'],
      pick: async (c) => ((offered = c), c[1]),
    });
    assert.deepEqual(offered, ['/w/a/score.py', '/w/b/deep/score.py', '/w/x_score.py']);
    assert.equal(picked, '/w/b/deep/score.py');
    assert.equal(await resolveEntryScript(base), undefined);
  });

  it('orders score.py first, then *score*.py, shallow first', () => {
    assert.deepEqual(['/w/main.py', '/w/z/y/score.py', '/w/scorer.py', '/w/score.py'].sort(byPreference), ['/w/score.py', '/w/z/y/score.py', '/w/scorer.py', '/w/main.py']);
  });

  it('defaults the model dir to model/ next to the script', () => {
    assert.equal(defaultModelDir('/w/p/score.py', (p) => p === '/w/p/model'), '/w/p/model');
    assert.equal(defaultModelDir('/w/p/score.py', () => false), undefined);
  });

  it('finds the def lines for CodeLens', () => {
    assert.deepEqual(entryPointLines(SCORE), [
      { name: 'init', line: 2 },
      { name: 'run', line: 6 },
    ]);
  });
});
