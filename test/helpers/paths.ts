import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const tsrunBin = path.join(repoRoot, 'bin', 'tsrun');
export const fixtureRootfs = path.join(repoRoot, '.cache', 'fixtures', 'busybox', 'rootfs');
/** Every cgroup a test creates lives under this parent, in every hierarchy. */
export const TEST_CGROUP_PARENT = 'tsrun-test';
