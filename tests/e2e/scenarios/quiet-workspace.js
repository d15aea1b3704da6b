// Issue 9: a workspace whose *score*.py files are not scoring scripts (no top-level init and run)
// gets no daemon (so no diagnostics and no prompt) and no CodeLens. Absence is watched for a
// bounded time after the extension has activated there.
'use strict';

module.exports = {
  name: 'quiet-workspace',
  timeoutMs: 240000,
  async run(t) {
    const s = await t.open({
      files: {
        'test_score.py': 'def test_score():\n    assert 1 + 1 == 2\n',
        // A top-level run() but no init(): the old name-based detection showed CodeLens and errors here.
        'f1_score.py': 'def run(y_true, y_pred):\n    return 1.0\n',
      },
    });
    await s.openFile('f1_score.py', 'def run');
    const activated = await s.waitForStatus(/Scoring: stopped/);
    t.check('the extension is active there (status bar)', activated.ok, JSON.stringify(activated.t));
    const seen = { daemon: [], lenses: 0, problems: [], notifications: [] };
    const end = Date.now() + 15000;
    while (Date.now() < end) {
      seen.daemon.push(...s.processes());
      seen.lenses = Math.max(seen.lenses, await s.page.locator('.codelens-decoration', { hasText: /Send Sample Request|Debug|Start/ }).count());
      const toasts = await s.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts().catch(() => []);
      seen.notifications.push(...toasts.filter((x) => /azmlinfsrv|AzureML/i.test(x)));
      await new Promise((r) => setTimeout(r, 500)); // sampling a bounded window, not synchronising
    }
    await s.showProblems();
    seen.problems = (await s.problems()).filter((x) => /azmlinfsrv/.test(x));
    await s.screenshot('quiet-workspace');
    t.check('test_score.py, f1_score.py: no daemon started', seen.daemon.length === 0, JSON.stringify(seen.daemon.slice(0, 2)));
    t.check('no azmlinfsrv CodeLens', seen.lenses === 0, String(seen.lenses));
    t.check('no azmlinfsrv diagnostics', seen.problems.length === 0, JSON.stringify(seen.problems));
    t.check('no azmlinfsrv prompt', seen.notifications.length === 0, JSON.stringify([...new Set(seen.notifications)]));
  },
};
