// config-linux.md#sysctl: namespaced kernel parameters, set in the container only.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle } from '../lib/bundle.js';
import { probeArgs, withoutNamespace } from '../lib/config.js';
import { scenario } from '../lib/scenario.js';

export const linux_sysctl = scenario({
  section: 'config-linux.md#sysctl',
  name: 'linux_sysctl',
  checks: {
    applied: 'sysctl values are set in the container (network and ipc namespaced keys)',
    'host-unchanged': "the host's values of those keys are unchanged",
    unknown: 'a sysctl key the kernel does not have generates an error',
    'host-namespace': "a net.* sysctl for a container sharing the host's network namespace is refused (it would change the host; runc's rule)",
  },
  async run(s) {
    const keys = { 'net.ipv4.ip_forward': '1', 'net.core.somaxconn': '511', 'kernel.shmmni': '2048' };
    const hostBefore = Object.keys(keys).map(hostSysctl);
    await s.probe(
      'applied',
      (c) => {
        c.linux.sysctl = keys;
        c.process.args = probeArgs(['sysctl', ...Object.keys(keys)]);
      },
      (f) => {
        for (const [k, v] of Object.entries(keys)) s.equal('applied', f.get(`sysctl ${k}`), v, k);
      },
    );
    s.equal('host-unchanged', Object.keys(keys).map(hostSysctl), hostBefore);

    // The host's own value: a runtime that wrongly applies it to the host changes nothing.
    const current = hostSysctl('net.ipv4.ip_forward');
    const valid = (): Promise<Bundle> => s.bundle((c) => (c.linux.sysctl = { 'net.ipv4.ip_forward': current }));
    const bad = await s.bundle((c) => (c.linux.sysctl = { 'net.oci.no_such_key': '1' }));
    await s.expectError('unknown', bad, 'sysctl net.oci.no_such_key', undefined, await valid());
    const host = await s.bundle((c) => {
      withoutNamespace(c, 'network');
      c.linux.sysctl = { 'net.ipv4.ip_forward': current };
    });
    await s.expectError('host-namespace', host, 'net.ipv4.ip_forward without a network namespace', undefined, await valid());
  },
});

function hostSysctl(key: string): string {
  return readFileSync(path.join('/proc/sys', key.replace(/\./g, '/')), 'utf8').trim();
}
