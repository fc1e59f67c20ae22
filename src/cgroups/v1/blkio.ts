// v1 blkio controller. Kernels since 5.0 have no CFQ: weights then live in the BFQ files
// (blkio.bfq.weight, blkio.bfq.weight_device), as runc falls back to.
import { hasFile, unsupported, writeResource } from '../fs.js';
import type { BlockIOResources, DeviceRate } from '../resources.js';

function weightFile(dir: string, cfq: string, bfq: string, field: string): string {
  if (hasFile(dir, cfq)) return cfq;
  if (hasFile(dir, bfq)) return bfq;
  throw unsupported(field, `neither ${cfq} nor ${bfq} exists: no proportional-weight I/O scheduler on this host`);
}

function throttle(dir: string, file: string, list: DeviceRate[] | undefined, field: string): void {
  (list ?? []).forEach((d, i) => writeResource(dir, file, `${d.major}:${d.minor} ${d.rate}`, `${field}[${i}]`));
}

export function setBlkio(dir: string, b: BlockIOResources | undefined): void {
  if (!b) return;
  if (b.weight) writeResource(dir, weightFile(dir, 'blkio.weight', 'blkio.bfq.weight', 'blockIO.weight'), String(b.weight), 'blockIO.weight');
  if (b.leafWeight) {
    if (!hasFile(dir, 'blkio.leaf_weight')) throw unsupported('blockIO.leafWeight', 'blkio.leaf_weight is missing: only the CFQ scheduler (gone since Linux 5.0) has leaf weights');
    writeResource(dir, 'blkio.leaf_weight', String(b.leafWeight), 'blockIO.leafWeight');
  }
  (b.weightDevice ?? []).forEach((d, i) => {
    const field = `blockIO.weightDevice[${i}]`;
    if (d.weight !== undefined) {
      const file = weightFile(dir, 'blkio.weight_device', 'blkio.bfq.weight_device', field);
      writeResource(dir, file, `${d.major}:${d.minor} ${d.weight}`, `${field}.weight`);
    }
    if (d.leafWeight !== undefined) {
      if (!hasFile(dir, 'blkio.leaf_weight_device')) throw unsupported(`${field}.leafWeight`, 'blkio.leaf_weight_device is missing: only CFQ has leaf weights');
      writeResource(dir, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`, `${field}.leafWeight`);
    }
  });
  throttle(dir, 'blkio.throttle.read_bps_device', b.throttleReadBpsDevice, 'blockIO.throttleReadBpsDevice');
  throttle(dir, 'blkio.throttle.write_bps_device', b.throttleWriteBpsDevice, 'blockIO.throttleWriteBpsDevice');
  throttle(dir, 'blkio.throttle.read_iops_device', b.throttleReadIOPSDevice, 'blockIO.throttleReadIOPSDevice');
  throttle(dir, 'blkio.throttle.write_iops_device', b.throttleWriteIOPSDevice, 'blockIO.throttleWriteIOPSDevice');
}
