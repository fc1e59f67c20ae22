// `tsrun --version`, in runc's layout: tools parse its `commit:` and `spec:` lines.
import { OCI_VERSION } from '../oci/defaults.js';
import { buildCommit, VERSION } from '../package.js';
import { seccompLibraryVersion } from '../api/info.js';

/** The version block, also shown under VERSION in the help. */
export function versionText(): string {
  return [`tsrun version ${VERSION}`, `commit: ${buildCommit()}`, `spec: ${OCI_VERSION}`, `node: ${process.version}`, `libseccomp: ${seccompLibraryVersion()}`].join('\n');
}
