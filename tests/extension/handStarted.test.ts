import { strict as assert } from 'assert';
import { HandStartedAttach, pidAlive, workerOf } from '../../extension/src/scoringServer/handStarted';
import { AttachConfiguration, DaemonConnection } from '../../extension/src/protocol';
import * as fake from './fake/vscode';
import { until } from './until';

const listener = (worker: number, port: number): AttachConfiguration => ({
  type: 'debugpy',
  request: 'attach',
  connect: { host: '127.0.0.1', port },
  workerPid: worker,
});

describe('attaching to a server started by hand', () => {
  let workers: number[];
  let asked: object[];
  let attached: AttachConfiguration[];
  let dead: Set<number>;
  let daemon: DaemonConnection;
  let logs: string[];
  let follow: HandStartedAttach;

  beforeEach(() => {
    fake.reset();
    workers = [901];
    asked = [];
    attached = [];
    logs = [];
    dead = new Set();
    daemon = {
      command: async <T>(_name: string, arg: object): Promise<T> => {
        asked.push(arg);
        return { configurations: workers.map((w) => listener(w, w + 1000)) } as T;
      },
    };
    const debug = {
      attach: async (configs: AttachConfiguration[]) => (attached.push(...configs), configs.length),
      stopAll: async () => undefined,
      isAttached: () => false,
    };
    const daemons = { ensure: async () => daemon, current: () => daemon };
    follow = new HandStartedAttach(daemons, debug, { appendLine: (l) => logs.push(l), show: () => undefined }, (pid) => !dead.has(pid));
    follow.pollMs = 5;
    follow.exitGraceMs = 50;
  });

  afterEach(() => follow.dispose());

  it('re-attaches to the new worker once a reload retired the old one', async () => {
    assert.equal(await follow.attach(daemon, 900), 1);
    assert.deepEqual(asked, [{ pid: 900 }]);
    // The reload: a new worker serves, then the old one exits and its session ends.
    workers = [902];
    dead.add(901);
    fake.terminateSession({ configuration: { workerPid: 901 } });
    await until(() => attached.length === 2);
    assert.equal(attached[1].workerPid, 902);
    assert.match(logs.at(-1) ?? '', /1 new worker\(s\) of azmlinfsrv 900/);
  });

  it('waits for a worker that is still exiting when its session ends', async () => {
    await follow.attach(daemon, 900);
    workers = [902];
    fake.terminateSession({ configuration: { workerPid: 901 } }); // 901 still exits
    await new Promise((r) => setTimeout(r, 15));
    dead.add(901);
    await until(() => attached.length === 2);
    assert.equal(attached[1].workerPid, 902);
  });

  it('waits for a successor that is still starting', async () => {
    await follow.attach(daemon, 900);
    workers = [];
    dead.add(901);
    fake.terminateSession({ configuration: { workerPid: 901 } });
    await until(() => asked.length >= 3);
    workers = [903];
    await until(() => attached.length === 2);
    assert.equal(attached[1].workerPid, 903);
  });

  it('leaves a session the user ended while its worker lives', async () => {
    await follow.attach(daemon, 900);
    fake.terminateSession({ configuration: { workerPid: 901 } });
    await new Promise((r) => setTimeout(r, 120)); // past exitGraceMs
    assert.deepEqual(asked, [{ pid: 900 }], 'nothing asked again');
  });

  it('stops following when the server is gone', async () => {
    await follow.attach(daemon, 900);
    dead.add(901).add(900);
    fake.terminateSession({ configuration: { workerPid: 901 } });
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(asked, [{ pid: 900 }]);
    assert.equal(attached.length, 1);
  });

  it('says why it cannot attach', async () => {
    daemon.command = async <T>(): Promise<T> => ({ configurations: [], error: 'needs gdb' }) as T;
    await assert.rejects(follow.attach(daemon, 900), /needs gdb/);
  });

  it('knows a configuration by its worker, and a live process', () => {
    assert.equal(workerOf(listener(5, 6)), 5);
    assert.equal(workerOf({ processId: 7 }), 7);
    assert.equal(workerOf({}), undefined);
    assert.equal(pidAlive(process.pid), true);
  });
});
