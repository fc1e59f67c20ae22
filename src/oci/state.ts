// The OCI state document (runtime.md "State"), with runc's extra fields in runc's order.
export type Status = 'creating' | 'created' | 'running' | 'stopped' | 'paused';

export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}
