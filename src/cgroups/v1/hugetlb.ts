// v1 hugetlb controller: one limit file per page size.
import { hasFile, unsupported, writeResource } from '../fs.js';
import type { HugepageLimit } from '../resources.js';

export function setHugetlb(dir: string, limits: HugepageLimit[] | undefined): void {
  (limits ?? []).forEach((l, i) => {
    const file = `hugetlb.${l.pageSize}.limit_in_bytes`;
    if (!hasFile(dir, file)) throw unsupported(`hugepageLimits[${i}].pageSize`, `${file} is missing: this host has no ${l.pageSize} huge pages`);
    writeResource(dir, file, String(l.limit), `hugepageLimits[${i}].limit`);
  });
}
