// The file a CRI handler's `ConfigPath` names, for a runtime_type that is not runc's:
// containerd 1.6 sends such a handler only runtimeoptions.v1.Options, so the keys runc's
// handler would have in its [options] section live in this file instead, with the same
// names (SystemdCgroup, Root, NoPivotRoot, NoNewKeyring, IoUid, IoGid). The TOML parser is
// loaded only when a handler has such a file.
import { readFileSync } from 'node:fs';
import { InvalidArgument } from '../errors.js';
import { logger } from '../log.js';
import type { ShimOptions } from './options.js';

const FIELD = 'options.ConfigPath';

export async function readOptionsFile(file: string): Promise<Partial<ShimOptions>> {
  const { parse } = await import('smol-toml');
  let doc: Record<string, unknown>;
  try {
    doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw InvalidArgument.at(FIELD, `${file}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const wrong = (key: string, want: string): InvalidArgument => InvalidArgument.at(FIELD, `${file}: ${key} must be ${want}, got ${JSON.stringify(doc[key])}`);
  const bool = (key: string): boolean | undefined => {
    const v = doc[key];
    if (v !== undefined && typeof v !== 'boolean') throw wrong(key, 'true or false');
    return v;
  };
  const id = (key: string): number | undefined => {
    const v = doc[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'bigint' && typeof v !== 'number') throw wrong(key, 'a number');
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw wrong(key, 'a uid or gid');
    return n;
  };
  const out: Partial<ShimOptions> = {};
  const set = <K extends keyof ShimOptions>(key: K, v: ShimOptions[K] | undefined): void => {
    if (v !== undefined) out[key] = v;
  };
  set('systemdCgroup', bool('SystemdCgroup'));
  set('noPivot', bool('NoPivotRoot'));
  set('noNewKeyring', bool('NoNewKeyring'));
  set('ioUid', id('IoUid'));
  set('ioGid', id('IoGid'));
  if (doc.Root !== undefined) {
    if (typeof doc.Root !== 'string' || !doc.Root.startsWith('/')) throw wrong('Root', 'an absolute path');
    out.root = doc.Root;
  }
  const known = new Set(['SystemdCgroup', 'NoPivotRoot', 'NoNewKeyring', 'IoUid', 'IoGid', 'Root']);
  for (const key of Object.keys(doc)) if (!known.has(key)) logger.warn(`${FIELD}: ${file}: ignoring ${key}`);
  return out;
}
