// rdma.max, the same in v1 and v2: "<device> hca_handle=N hca_object=M".
import { writeResource } from './fs.js';
import type { RdmaLimit } from './resources.js';

export function setRdma(dir: string, rdma: Record<string, RdmaLimit> | undefined): void {
  for (const [dev, l] of Object.entries(rdma ?? {})) {
    const parts = [dev];
    if (l.hcaHandles !== undefined) parts.push(`hca_handle=${l.hcaHandles}`);
    if (l.hcaObjects !== undefined) parts.push(`hca_object=${l.hcaObjects}`);
    if (parts.length > 1) writeResource(dir, 'rdma.max', parts.join(' '), `rdma.${dev}`);
  }
}
