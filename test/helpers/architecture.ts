// The checks of docs/architecture.md's layer rules, on source text: the module specifiers a
// file names (read with the TypeScript compiler, so that import(), require(), re-exports,
// import types and either quote style all count), the layer a file belongs to, and the
// arrows the doc draws in its machine-readable block.
import path from 'node:path';
import ts from 'typescript';

const parsed = new Map<string, string[]>();

/** Every module a source file names: static and type imports, re-exports, import(), require(). */
export function specifiersOf(fileName: string, text: string): string[] {
  const known = parsed.get(text);
  if (known) return known;
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const literal = (node: ts.Node | undefined): void => {
    if (node && ts.isStringLiteralLike(node)) found.push(node.text);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) literal(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) literal(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) literal(node.argument.literal);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) literal(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  parsed.set(text, found);
  return found;
}

/** A file's layer: its directory under src/, or the file's own name for a file at the top. */
export function layerOf(srcDir: string, file: string): string {
  const parts = path.relative(srcDir, file).split(path.sep);
  return parts.length === 1 ? (parts[0] ?? '').replace(/\.ts$/, '') : (parts[0] ?? '');
}

/** The src/ file a relative specifier of `from` names (.js as .ts), or null for a package. */
export function resolveRelative(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  return path.resolve(path.dirname(from), specifier.replace(/\.js$/, '.ts'));
}

/**
 * The arrows of the doc's ```layers block: one line per layer, "layer -> other other", or
 * "layer ->" for none. Returns layer -> the layers it may import.
 */
export function parseLayers(markdown: string): Map<string, Set<string>> {
  const block = /^```layers\n([\s\S]*?)^```/m.exec(markdown);
  if (!block?.[1]) throw new Error('no ```layers block');
  const layers = new Map<string, Set<string>>();
  for (const line of block[1].split('\n')) {
    const text = line.replace(/#.*/, '').trim();
    if (!text) continue;
    const m = /^([\w-]+)\s*->\s*(.*)$/.exec(text);
    if (!m?.[1]) throw new Error(`not a layer line: ${line}`);
    if (layers.has(m[1])) throw new Error(`layer ${m[1]} drawn twice`);
    layers.set(m[1], new Set((m[2] ?? '').split(/\s+/).filter(Boolean)));
  }
  return layers;
}

export interface SourceFile {
  /** absolute path under srcDir */
  file: string;
  text: string;
}

export interface Findings {
  /** "runtime/list.ts -> shim": imports no arrow allows */
  undrawn: string[];
  /** "cgroups -> log": arrows no import uses */
  unused: string[];
  /** layers under src/ the doc does not draw, and drawn layers that are not there */
  unknownLayers: string[];
  /** files outside src/native that reach native other than through native/index.ts */
  besideNativeFace: string[];
  /** files other than native/addon.ts that load the .node file */
  addonLoaders: string[];
}

/** Checks a source tree against the drawn arrows and the native layer's one face. */
export function checkLayers(srcDir: string, files: SourceFile[], arrows: Map<string, Set<string>>): Findings {
  const used = new Set<string>();
  const present = new Set<string>();
  const findings: Findings = { undrawn: [], unused: [], unknownLayers: [], besideNativeFace: [], addonLoaders: [] };
  const nativeFace = path.join(srcDir, 'native', 'index.ts');
  for (const { file, text } of files) {
    const from = layerOf(srcDir, file);
    const rel = path.relative(srcDir, file);
    present.add(from);
    for (const spec of specifiersOf(file, text)) {
      if (/\.node$/.test(spec) || /tsrun_native/.test(spec)) findings.addonLoaders.push(rel);
      const target = resolveRelative(file, spec);
      if (!target) continue;
      const to = layerOf(srcDir, target);
      if (to === from) continue;
      if (to === 'native' && target !== nativeFace) findings.besideNativeFace.push(`${rel} -> ${path.relative(srcDir, target)}`);
      if (arrows.get(from)?.has(to)) used.add(`${from} -> ${to}`);
      else findings.undrawn.push(`${rel} -> ${to}`);
    }
    if (rel !== path.join('native', 'addon.ts') && /tsrun_native\.node/.test(text)) findings.addonLoaders.push(rel);
  }
  for (const [from, targets] of arrows) for (const to of targets) if (!used.has(`${from} -> ${to}`)) findings.unused.push(`${from} -> ${to}`);
  for (const layer of present) if (!arrows.has(layer)) findings.unknownLayers.push(`${layer} (not drawn)`);
  for (const layer of arrows.keys()) if (!present.has(layer)) findings.unknownLayers.push(`${layer} (drawn, not in src/)`);
  return findings;
}
