// Reading a bundle: its config.json, judged, and its rootfs, resolved.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgument, NotFound } from '../errors.js';
import { parseGoJson } from '../oci/go-json.js';
import type { Config } from '../oci/spec.js';
import { parseConfig } from '../oci/validate.js';
import { callerPath } from './invocation.js';

export interface Bundle {
  /** absolute and resolved */
  dir: string;
  config: Config;
  /** config.json as read (null members left out): what the container's state keeps */
  raw: unknown;
  /** absolute and resolved */
  rootfs: string;
}

export function loadBundle(dirArg: string): Bundle {
  let dir: string;
  try {
    dir = realpathSync(callerPath(dirArg));
  } catch {
    throw new NotFound(`bundle ${JSON.stringify(dirArg)} does not exist`, { field: '--bundle', path: dirArg });
  }
  const configPath = path.join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new NotFound(`${configPath}: ${code === 'ENOENT' ? 'no config.json in the bundle' : String(code)}`, { path: configPath });
  }
  const parsed = parseConfig(text);
  if (!parsed.ok) {
    const [first, ...rest] = parsed.issues;
    const more = rest.length ? ` (and ${rest.length} more: ${rest.map((i) => i.field).join(', ')})` : '';
    throw new InvalidArgument(`config.json: ${first?.field}: ${first?.message}${more}`, { field: first?.field });
  }
  const config = parsed.config;
  if (!config.process) throw new InvalidArgument('config.json: process: is required to create a container', { field: 'process' });
  const rootArg = config.root?.path ?? '';
  const rootAbs = path.resolve(dir, rootArg);
  let rootfs: string;
  try {
    rootfs = realpathSync(rootAbs);
  } catch {
    throw new InvalidArgument(`config.json: root.path: ${JSON.stringify(rootAbs)} does not exist`, { field: 'root.path' });
  }
  if (!statSync(rootfs).isDirectory()) {
    throw new InvalidArgument(`config.json: root.path: ${JSON.stringify(rootfs)} is not a directory`, { field: 'root.path' });
  }
  return { dir, config, raw: parseGoJson(text), rootfs };
}
