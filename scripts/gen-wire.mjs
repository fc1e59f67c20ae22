#!/usr/bin/env node
// npm run gen:wire: TypeScript's half of the wire descriptions. Reads cpp/plan/plan.def,
// sync.def and steps.def (which C++ expands with macros) and writes src/native/wire.gen.ts:
// the types, the enums' codes, the field lists the encoder walks (src/native/wire.ts), the
// fixed records' offsets, the step names, and the hash of the three files that C++ also
// computes (CMakeLists.txt). test/unit/native/wire-fresh.test.ts fails when the file is stale.
//   node scripts/gen-wire.mjs            writes src/native/wire.gen.ts
//   node scripts/gen-wire.mjs <out>      writes <out> instead
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFS = ['cpp/plan/plan.def', 'cpp/plan/sync.def', 'cpp/plan/steps.def'];
const texts = DEFS.map((f) => readFileSync(path.join(root, f), 'utf8'));

/** Splits "a, list<b>, c" at the commas outside <> and (). */
function args(text) {
  const out = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '<' || ch === '(') depth++;
    if (ch === '>' || ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** The macro lines of a .def file, each with the // lines just above it. */
function entries(text, file) {
  const out = [];
  let doc = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('//')) {
      doc.push(line.replace(/^\/\/ ?/, ''));
      return;
    }
    if (line === '') {
      doc = [];
      return;
    }
    const m = /^([A-Z_]+)\((.*)\)$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: not a macro line: ${line}`);
    out.push({ macro: m[1], args: args(m[2]), doc, where: `${file}:${i + 1}` });
    doc = [];
  });
  return out;
}

const camel = (name) => name.replace(/_id$/, '_ID').replace(/_([a-zA-Z])/g, (_, c) => c.toUpperCase());
const SCALARS = { u8: 'number', u32: 'number', i32: 'number', u64: 'bigint', i64: 'bigint', flags64: 'number', bool: 'boolean', str: 'string', bytes: 'Buffer' };
const FIXED_SIZES = { u8: 1, u32: 4, i32: 4, u64: 8, i64: 8 };

const enums = new Map(); // name -> { underlying, values: [{ id, ts, code, doc }], doc }
const consts = [];
const records = new Map(); // name -> { tsName, fields: [{ name, type, kind, doc }], doc }
const fixed = new Map(); // name -> { tsName, fields: [{ name, type, offset, size, doc }], size, doc }
const steps = [];

function parse(list, prefix) {
  let current;
  for (const e of list) {
    const [a, b, c, d] = e.args;
    switch (e.macro) {
      case 'WIRE_ENUM':
        current = { underlying: b, values: [], doc: e.doc };
        enums.set(a, current);
        break;
      case 'WIRE_VALUE':
        enums.get(a).values.push({ id: b, ts: JSON.parse(c), code: Number(d), doc: e.doc });
        break;
      case 'WIRE_CONST':
        consts.push({ name: a, value: Number(b), doc: e.doc });
        break;
      case 'WIRE_RECORD':
        current = { tsName: a.startsWith(prefix) ? a : prefix + a, fields: [], doc: e.doc };
        records.set(a, current);
        break;
      case 'WIRE_FIELD':
      case 'WIRE_OPTIONAL':
      case 'WIRE_LOCAL':
        records.get(a).fields.push({ name: camel(c), type: b, kind: e.macro, doc: e.doc });
        break;
      case 'WIRE_FIXED':
        current = { tsName: prefix + a, fields: [], size: 0, doc: e.doc };
        fixed.set(a, current);
        break;
      case 'WIRE_FIXED_FIELD': {
        const rec = fixed.get(a);
        const size = FIXED_SIZES[b] ?? FIXED_SIZES[enums.get(b)?.underlying];
        if (!size) throw new Error(`${e.where}: no fixed size for ${b}`);
        rec.fields.push({ name: camel(c), type: b, offset: rec.size, size, doc: e.doc });
        rec.size += size;
        break;
      }
      case 'WIRE_FIXED_TEXT': {
        const rec = fixed.get(a);
        rec.fields.push({ name: camel(b), type: 'text', offset: rec.size, size: Number(c), doc: e.doc });
        rec.size += Number(c);
        break;
      }
      case 'STEP':
        steps.push(JSON.parse(b));
        break;
      case 'WIRE_ENUM_END':
      case 'WIRE_RECORD_END':
      case 'WIRE_FIXED_END':
        break;
      default:
        throw new Error(`${e.where}: unknown macro ${e.macro}`);
    }
  }
}

parse(entries(texts[0], DEFS[0]), 'Plan');
parse(entries(texts[1], DEFS[1]), 'Sync');
parse(entries(texts[2], DEFS[2]), '');

/** The TypeScript type of a wire type. */
function tsType(type) {
  const list = /^list<(.+)>$/.exec(type);
  if (list) return `${tsType(list[1])}[]`;
  if (SCALARS[type]) return SCALARS[type];
  if (enums.has(type)) return type;
  if (records.has(type)) return records.get(type).tsName;
  throw new Error(`unknown wire type ${type}`);
}

/** The schema's form of a wire type, for the encoder to walk. */
function schemaType(type) {
  const list = /^list<(.+)>$/.exec(type);
  if (list) return `{ list: ${schemaType(list[1])} }`;
  if (SCALARS[type]) return `'${type}'`;
  if (enums.has(type)) return `{ enum: '${type}' }`;
  if (records.has(type)) return `{ record: '${type}' }`;
  throw new Error(`unknown wire type ${type}`);
}

function jsdoc(doc, indent = '') {
  if (!doc.length) return '';
  if (doc.length === 1) return `${indent}/** ${doc[0]} */\n`;
  return `${indent}/**\n${doc.map((l) => `${indent} * ${l}`.trimEnd()).join('\n')}\n${indent} */\n`;
}

const hash = createHash('sha256').update(texts.join('')).digest('hex').slice(0, 8);
let out = `// Generated by scripts/gen-wire.mjs from ${DEFS.join(', ')}: edit those and run
// \`npm run gen:wire\`. test/unit/native/wire-fresh.test.ts fails when this file is stale.

/** The first 8 hex digits of the SHA-256 of the three descriptions; a plan starts with it. */
export const WIRE_HASH = 0x${hash};

/** The steps of container set-up, indexed as a sync record's step field. */
export const STEP_NAMES = [${steps.map((s) => `'${s}'`).join(', ')}] as const;
`;

for (const [name, e] of enums) {
  out += `\n${jsdoc(e.doc)}export const ${name} = {\n`;
  for (const v of e.values) out += `${jsdoc(v.doc, '  ')}  ${v.id}: '${v.ts}',\n`;
  out += `} as const;\nexport type ${name} = (typeof ${name})[keyof typeof ${name}];\n`;
}

for (const c of consts) out += `\n${jsdoc(c.doc)}export const ${c.name} = ${c.value};\n`;

for (const r of records.values()) {
  out += `\n${jsdoc(r.doc)}export interface ${r.tsName} {\n`;
  for (const f of r.fields) {
    const type = f.kind === 'WIRE_LOCAL' ? f.type : tsType(f.type) + (f.kind === 'WIRE_OPTIONAL' ? ' | null' : '');
    out += `${jsdoc(f.doc, '  ')}  ${f.name}: ${type};\n`;
  }
  out += '}\n';
}

for (const r of fixed.values()) {
  out += `\n${jsdoc(r.doc)}export interface ${r.tsName} {\n`;
  for (const f of r.fields) {
    const type = f.type === 'text' ? 'string' : enums.has(f.type) ? f.type : SCALARS[f.type];
    out += `${jsdoc(f.doc, '  ')}  ${f.name}: ${type};\n`;
  }
  out += '}\n';
}

out += `
/** Each enum's size on the wire and its codes, by TypeScript value. */
export const ENUMS = {
${[...enums].map(([name, e]) => `  ${name}: { size: ${FIXED_SIZES[e.underlying]}, codes: { ${e.values.map((v) => `'${v.ts}': ${v.code}`).join(', ')} } },`).join('\n')}
} as const;

export type EnumName = keyof typeof ENUMS;
export type RecordName = ${[...records.keys()].map((n) => `'${n}'`).join(' | ')};

/** The wire types the encoder walks (src/native/wire.ts). */
export type WireType =
  | ${Object.keys(SCALARS).map((s) => `'${s}'`).join(' | ')}
  | { enum: EnumName }
  | { record: RecordName }
  | { list: WireType };

export interface WireField {
  name: string;
  type: WireType;
  optional?: true;
}

/** Each record's fields in their order on the wire (WIRE_LOCAL fields are not sent). */
export const RECORDS = {
${[...records]
  .map(
    ([name, r]) =>
      `  ${name}: [\n${r.fields
        .filter((f) => f.kind !== 'WIRE_LOCAL')
        .map((f) => `    { name: '${f.name}', type: ${schemaType(f.type)}${f.kind === 'WIRE_OPTIONAL' ? ', optional: true' : ''} },\n`)
        .join('')}  ],`,
  )
  .join('\n')}
} satisfies Record<RecordName, WireField[]>;

export type FixedType = 'u8' | 'u32' | 'i32' | 'u64' | 'i64' | 'text' | { enum: EnumName };

/** The fixed-size records of the sync channel: each field's offset and size. */
export const FIXED = {
${[...fixed]
  .map(
    ([name, r]) =>
      `  ${name}: {\n    size: ${r.size},\n    fields: [\n${r.fields
        .map((f) => `      { name: '${f.name}', type: ${enums.has(f.type) ? `{ enum: '${f.type}' }` : `'${f.type}'`}, offset: ${f.offset}, size: ${f.size} },\n`)
        .join('')}    ],\n  },`,
  )
  .join('\n')}
} satisfies Record<string, { size: number; fields: Array<{ name: string; type: FixedType; offset: number; size: number }> }>;
`;

const target = process.argv[2] ?? path.join(root, 'src/native/wire.gen.ts');
writeFileSync(target, out);
