// config.md#specification-version, #annotations, #extensibility and #valid-values: what a
// runtime must ignore and what it must refuse (runtime-tools' misc_props).
import { probeArgs, type Config } from '../lib/config.js';
import { scenario, type Scenario } from '../lib/scenario.js';

/** The container runs, whatever else its config says. */
function runs(s: Scenario, key: string, edit: (c: Config) => void): Promise<void> {
  return s.probe(
    key,
    (c) => {
      c.process.args = probeArgs(['echo', 'ran']);
      edit(c);
    },
    (f) => s.ok(key, f.has('echo ran'), `the program did not run: ${f.text}`),
  );
}

export const misc_props = scenario({
  section: 'config.md#extensibility',
  name: 'misc_props',
  checks: {
    'annotation-unknown': 'an unknown annotation key is no error',
    'annotation-empty-value': 'an annotation with an empty value is no error (values MAY be empty)',
    'unknown-property': 'an unknown top-level property is ignored',
    'unknown-nested': 'unknown properties inside process, root, mounts and linux are ignored',
    'invalid-version': 'an ociVersion that is not SemVer ("invalid") generates an error',
    'null-members':
      'optional members given as JSON null (as Go writes nil slices, maps and pointers) are absent: hostname, process.rlimits, process.capabilities.ambient, mounts[].options, linux.sysctl, linux.resources, annotations',
  },
  async run(s) {
    await Promise.all([
      runs(s, 'annotation-unknown', (c) => (c.annotations = { [`org.${s.newId('ann')}`]: 'x' })),
      runs(s, 'annotation-empty-value', (c) => (c.annotations = { 'com.example.empty': '' })),
      runs(s, 'unknown-property', (c) => (c.ociConformanceUnknown = { nested: [1, 2, 3], flag: true })),
      runs(s, 'unknown-nested', (c) => {
        c.process.ociConformanceUnknown = 'x';
        c.root.ociConformanceUnknown = 1;
        c.mounts[0].ociConformanceUnknown = { a: 1 };
        c.linux.ociConformanceUnknown = ['x'];
      }),
      runs(s, 'null-members', (c) => {
        c.hostname = null;
        c.process.rlimits = null;
        if (c.process.capabilities) c.process.capabilities.ambient = null;
        c.mounts[0].options = null;
        c.linux.sysctl = null;
        c.linux.resources = null;
        c.annotations = null;
      }),
      s.bundle((c) => (c.ociVersion = 'invalid')).then((b) => s.expectError('invalid-version', b, 'ociVersion "invalid"')),
    ]);
  },
});

export const valid_values = scenario({
  section: 'config.md#valid-values',
  name: 'valid_values',
  checks: {
    'namespace-type': 'an unknown namespace type generates an error',
    rootfsPropagation: 'an unknown rootfsPropagation generates an error',
    'masked-relative': 'a relative maskedPaths entry generates an error (values MUST be absolute)',
    'readonly-relative': 'a relative readonlyPaths entry generates an error (values MUST be absolute)',
  },
  async run(s) {
    await Promise.all([
      s.bundle((c) => c.linux.namespaces.push({ type: 'oci-bogus' })).then((b) => s.expectError('namespace-type', b, 'namespace type "oci-bogus"')),
      s
        .bundle((c) => (c.linux.rootfsPropagation = 'oci-bogus'))
        .then(async (b) => s.expectError('rootfsPropagation', b, 'rootfsPropagation "oci-bogus"', undefined, await s.bundle((c) => (c.linux.rootfsPropagation = 'private')))),
      s.bundle((c) => c.linux.maskedPaths.push('proc/kcore')).then((b) => s.expectError('masked-relative', b, 'maskedPaths "proc/kcore"')),
      s.bundle((c) => c.linux.readonlyPaths.push('proc/sys')).then((b) => s.expectError('readonly-relative', b, 'readonlyPaths "proc/sys"')),
    ]);
  },
});
