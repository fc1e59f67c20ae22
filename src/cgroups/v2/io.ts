// v2 io controller: the v1 blkio settings in io.* files. A weight goes to io.bfq.weight
// as it is when BFQ is there, else to io.weight converted to its range; throttles become
// io.max lines.
import { hasFile, unsupported, writeResource } from '../fs.js';
import { blkioToIoWeight, type BlockIOResources, type DeviceRate } from '../resources.js';

function ioMax(dir: string, key: string, list: DeviceRate[] | undefined, field: string): void {
  (list ?? []).forEach((d, i) => writeResource(dir, 'io.max', `${d.major}:${d.minor} ${key}=${d.rate}`, `${field}[${i}]`));
}

export function setIo(dir: string, b: BlockIOResources | undefined): void {
  if (!b) return;
  const bfq = hasFile(dir, 'io.bfq.weight');
  if (b.weight) {
    if (bfq) writeResource(dir, 'io.bfq.weight', String(b.weight), 'blockIO.weight');
    else writeResource(dir, 'io.weight', String(blkioToIoWeight(b.weight)), 'blockIO.weight');
  }
  if (b.leafWeight) throw unsupported('blockIO.leafWeight', 'cgroup v2 has no leaf weights');
  (b.weightDevice ?? []).forEach((d, i) => {
    const field = `blockIO.weightDevice[${i}]`;
    if (d.leafWeight !== undefined) throw unsupported(`${field}.leafWeight`, 'cgroup v2 has no leaf weights');
    if (d.weight === undefined) return;
    if (bfq) writeResource(dir, 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`, `${field}.weight`);
    else writeResource(dir, 'io.weight', `${d.major}:${d.minor} ${blkioToIoWeight(d.weight)}`, `${field}.weight`);
  });
  ioMax(dir, 'rbps', b.throttleReadBpsDevice, 'blockIO.throttleReadBpsDevice');
  ioMax(dir, 'wbps', b.throttleWriteBpsDevice, 'blockIO.throttleWriteBpsDevice');
  ioMax(dir, 'riops', b.throttleReadIOPSDevice, 'blockIO.throttleReadIOPSDevice');
  ioMax(dir, 'wiops', b.throttleWriteIOPSDevice, 'blockIO.throttleWriteIOPSDevice');
}
