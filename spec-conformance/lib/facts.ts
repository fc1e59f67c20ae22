// What the probe printed, as lookups. One fact per line: "<key> <value>".
export class Facts {
  readonly lines: string[];

  constructor(readonly text: string) {
    this.lines = text.split('\n').filter((l) => l !== '');
  }

  /** The value of the first line with this key. */
  get(key: string): string | undefined {
    const prefix = key + ' ';
    const line = this.lines.find((l) => l.startsWith(prefix) || l === key);
    return line === undefined ? undefined : line.slice(prefix.length);
  }

  all(key: string): string[] {
    const prefix = key + ' ';
    return this.lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  }

  has(line: string): boolean {
    return this.lines.includes(line);
  }

  env(): Map<string, string> {
    const m = new Map<string, string>();
    for (const e of this.all('env')) {
      const v = e.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      const eq = v.indexOf('=');
      m.set(eq < 0 ? v : v.slice(0, eq), eq < 0 ? '' : v.slice(eq + 1));
    }
    return m;
  }

  rlimit(type: string): { soft: string; hard: string } | undefined {
    const v = this.get(`rlimit ${type}`);
    if (!v) return undefined;
    const [soft, hard] = v.split(' ');
    return { soft: soft ?? '', hard: hard ?? '' };
  }

  ns(type: string): string | undefined {
    return this.get(`ns ${type}`);
  }

  /** stat PATH type=c mode=0666 ... as a record */
  stat(p: string): Record<string, string> | undefined {
    const v = this.get(`stat ${p}`);
    if (v === undefined) return undefined;
    const out: Record<string, string> = {};
    if (v.startsWith('error ')) {
      out.error = v.slice(6);
      return out;
    }
    for (const kv of v.split(' ')) {
      const eq = kv.indexOf('=');
      if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    return out;
  }

  mounts(): ProbeMount[] {
    return this.all('mount').map((l) => {
      const [point, fstype, source, options, superOptions, propagation, root] = l.split(' ');
      return {
        point: point ?? '',
        fstype: fstype ?? '',
        source: source ?? '',
        options: (options ?? '').split(','),
        superOptions: (superOptions ?? '').split(','),
        propagation: (propagation ?? '').split(','),
        root: (root ?? '').replace(/^root=/, ''),
      };
    });
  }

  /** The mount visible at a path: the last one mounted there. */
  mountAt(point: string): ProbeMount | undefined {
    const all = this.mounts().filter((m) => m.point === point);
    return all[all.length - 1];
  }
}

export interface ProbeMount {
  point: string;
  fstype: string;
  source: string;
  options: string[];
  superOptions: string[];
  propagation: string[];
  root: string;
}
