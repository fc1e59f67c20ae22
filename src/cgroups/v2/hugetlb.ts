// v2 hugetlb controller: hugetlb.<size>.max per page size.
import { hasFile, unsupported, writeResource } from '../fs.js';
import type { HugepageLimit } from '../resources.js';

export function setHugetlb(dir: string, limits: HugepageLimit[] | undefined): void {
  (limits ?? []).forEach((l, i) => {
    const file = `hugetlb.${l.pageSize}.max`;
    if (!hasFile(dir, file)) throw unsupported(`hugepageLimits[${i}].pageSize`, `${file} is missing: no hugetlb controller for ${l.pageSize} pages in this cgroup`);
    writeResource(dir, file, String(l.limit), `hugepageLimits[${i}].limit`);
  });
}
