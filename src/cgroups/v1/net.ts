// v1 net_cls and net_prio: a class id for tc and iptables, and per-interface priorities.
import { writeResource } from '../fs.js';
import type { NetworkResources } from '../resources.js';

export function setNetCls(dir: string, n: NetworkResources | undefined): void {
  if (n?.classID !== undefined) writeResource(dir, 'net_cls.classid', String(n.classID), 'network.classID');
}

export function setNetPrio(dir: string, n: NetworkResources | undefined): void {
  (n?.priorities ?? []).forEach((p, i) => writeResource(dir, 'net_prio.ifpriomap', `${p.name} ${p.priority}`, `network.priorities[${i}]`));
}
