// rolldown.config.mjs edits two files of @bufbuild/protobuf for the shim's bundle (see the
// plugin there); an upgrade that moves what it edits must fail here, not only warn at build.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/paths.js';

interface Plugin {
  name: string;
  transform(this: { warn(message: string): void }, code: string, id: string): string | null;
}

async function plugin(name: string): Promise<Plugin> {
  const configPath = path.join(repoRoot, 'rolldown.config.mjs');
  const { default: configs } = (await import(configPath)) as { default: { plugins?: Plugin[] }[] };
  const found = configs.flatMap((c) => c.plugins ?? []).find((p) => p.name === name);
  if (!found) throw new Error(`no plugin ${name}`);
  return found;
}

function transform(p: Plugin, relative: string): { code: string | null; warnings: string[] } {
  const id = path.join(repoRoot, 'node_modules/@bufbuild/protobuf/dist/esm', relative);
  const warnings: string[] = [];
  const code = p.transform.call({ warn: (m) => warnings.push(m) }, readFileSync(id, 'utf8'), id);
  return { code, warnings };
}

describe('the shim bundle boots descriptor.proto only while decoding', () => {
  it('turns the boot into a function, keeping the eager export for other importers', async () => {
    const p = await plugin('protobuf-transient-descriptor-proto');
    const { code, warnings } = transform(p, 'wkt/google/protobuf/descriptor_pb.js');
    expect(warnings).toEqual([]);
    expect(code).toContain('export const bootDescriptorProto = () => boot(');
    expect(code).toContain('export const file_google_protobuf_descriptor = /*@__PURE__*/ bootDescriptorProto();');
  });

  it('has fileDesc decode with a descriptor.proto held through a WeakRef', async () => {
    const p = await plugin('protobuf-transient-descriptor-proto');
    const { code, warnings } = transform(p, 'codegenv2/file.js');
    expect(warnings).toEqual([]);
    expect(code).not.toContain('FileDescriptorProtoSchema');
    expect(code).toContain('new WeakRef(file)');
    expect(code).toContain('fromBinary(fileDescriptorProtoSchema(),');
  });

  it('leaves other files alone', async () => {
    const p = await plugin('protobuf-transient-descriptor-proto');
    expect(transform(p, 'registry.js').code).toBeNull();
  });
});
