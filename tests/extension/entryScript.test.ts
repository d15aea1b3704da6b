import { strict as assert } from 'assert';
import { byPreference, defaultModelDir, definesInitAndRun, looksLikeScoreScript, resolveEntryScript } from '../../extension/src/entryScript';
import { entryPointLines } from '../../extension/src/codeLens';

const SCORE = 'import json\n\ndef init():\n    pass\n\n\nasync def run(data):\n    return data\n';

describe('entry script selection', () => {
  const base = { setting: '', findCandidates: async () => [] as string[], pick: async () => undefined as string | undefined };

  it('recognises scoring scripts by name or by init()/run()', () => {
    assert.ok(looksLikeScoreScript('/w/score.py', ''));
    assert.ok(looksLikeScoreScript('/w/my_score_v2.py', ''));
    assert.ok(looksLikeScoreScript('/w/main.py', SCORE));
    assert.ok(!looksLikeScoreScript('/w/main.py', 'def run():\n    pass\n'));
    assert.ok(!looksLikeScoreScript('/w/score.txt', SCORE));
    assert.ok(!definesInitAndRun('class A:\n    def init(self): ...\n    def run(self): ...\n'));
  });

  it('prefers an explicit argument, then the active score script, then the setting', async () => {
    assert.equal(await resolveEntryScript({ ...base, explicit: '/w/a.py', active: { fileName: '/w/score.py', text: '' }, setting: '/w/s.py' }), '/w/a.py');
    assert.equal(await resolveEntryScript({ ...base, active: { fileName: '/w/score.py', text: '' }, setting: '/w/s.py' }), '/w/score.py');
    assert.equal(await resolveEntryScript({ ...base, active: { fileName: '/w/util.py', text: 'x = 1' }, setting: '/w/s.py' }), '/w/s.py');
  });

  it('uses the only score file of the workspace, or asks', async () => {
    assert.equal(await resolveEntryScript({ ...base, findCandidates: async () => ['/w/a/score.py', '/w/readme.md'] }), '/w/a/score.py');
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

  it('orders score.py first, shallow first', () => {
    assert.deepEqual(['/w/z/y/score.py', '/w/scorer.py', '/w/score.py'].sort(byPreference), ['/w/score.py', '/w/z/y/score.py', '/w/scorer.py']);
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
