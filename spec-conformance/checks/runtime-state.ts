// runtime.md#state and #query-state: what `state` reports through a container's life.
import { probeArgs } from '../lib/config.js';
import { describeCall } from '../lib/runtime.js';
import { processLives } from '../lib/host.js';
import { until } from '../lib/poll.js';
import { scenario } from '../lib/scenario.js';

const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export const state = scenario({
  section: 'runtime.md#state',
  name: 'state',
  checks: {
    'no-id': 'state without a container ID generates an error',
    'not-exist': 'state of a container that does not exist generates an error',
    json: 'state prints the state as one JSON object',
    ociVersion: 'ociVersion is a SemVer version',
    id: 'id is the container ID',
    'status-created': 'status is "created" once create returned',
    'pid-created': 'pid is the live container process, as the host sees it, while created',
    bundle: 'bundle is the absolute path of the bundle directory',
    annotations: "annotations are config.json's annotations",
    'status-running': 'status is "running" while the program runs, with the same pid',
    'status-stopped': 'status is "stopped" once the container process exited (killed)',
    'after-delete': 'state of a deleted container generates an error',
  },
  async run(s) {
    s.failed('no-id', (await s.rt.state(undefined)).result, 'state with no ID');
    s.failed('not-exist', (await s.rt.state(s.newId('nope'))).result, 'state of an unknown ID');

    const annotations = { 'org.example.oci-conformance.key': 'value', 'com.example.other': '' };
    const b = await s.bundle((c) => {
      c.annotations = annotations;
      c.process.args = probeArgs(['echo', 'started'], ['sleep', '30']);
    });
    const c = s.container(b);
    await c.createOk();
    const r = await s.rt.state(c.id);
    s.ok('json', r.state !== undefined, r.parseError ? `not JSON: ${r.parseError}: ${r.result.stdout}` : describeCall(r.result));
    const st = s.need(r.state, 'state after create');
    s.ok('ociVersion', typeof st.ociVersion === 'string' && SEMVER.test(st.ociVersion), `ociVersion ${JSON.stringify(st.ociVersion)}`);
    s.equal('id', st.id, c.id);
    s.equal('status-created', st.status, 'created');
    const pid = st.pid;
    s.ok('pid-created', typeof pid === 'number' && pid > 0 && processLives(pid), `pid ${JSON.stringify(pid)} is not a live process`);
    s.equal('bundle', st.bundle, b.dir);
    s.equal('annotations', st.annotations, annotations);

    await c.startOk();
    const running = await c.state();
    s.equal('status-running', running?.status, 'running');
    s.equal('status-running', running?.pid, pid, 'pid');
    const started = await until(() => c.output().has('echo started'), 5000);
    s.ok('status-running', started, 'the program did not print "started"');

    // Killed rather than left to end: a slow runtime must not turn into a failed check.
    await c.kill('KILL');
    const stopped = await c.waitFor(['stopped'], 10_000);
    s.equal('status-stopped', stopped?.status, 'stopped');
    await c.deleteOk();
    const gone = await s.rt.state(c.id);
    s.failed('after-delete', gone.result, 'state after delete');
  },
});
