// docs/architecture.md's layer rules, checked on src/: every import follows an arrow drawn in
// the doc's ```layers block and every drawn arrow is used, so that the doc and the code
// cannot drift; the rest of src/ reaches the native layer through native/index.ts alone; only
// native/addon.ts loads the addon. The checker's own cases show what it catches.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLayers, parseLayers, specifiersOf, type SourceFile } from '../helpers/architecture.js';
import { repoRoot } from '../helpers/paths.js';

const SRC = path.join(repoRoot, 'src');
const doc = readFileSync(path.join(repoRoot, 'docs', 'architecture.md'), 'utf8');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const tree = (): SourceFile[] => files(SRC).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
const nothing = { undrawn: [], unused: [], unknownLayers: [], besideNativeFace: [], addonLoaders: [] };

describe('architecture', () => {
  it('src/ follows docs/architecture.md: the arrows it draws, all of them used, and the native layer behind one face', () => {
    expect(checkLayers(SRC, tree(), parseLayers(doc))).toEqual(nothing);
  });

  describe('the checker', () => {
    const arrows = parseLayers(doc);
    /** The tree with one file replaced (or added). */
    const withFile = (rel: string, text: string): SourceFile[] => [...tree().filter((f) => f.file !== path.join(SRC, rel)), { file: path.join(SRC, rel), text }];
    const list = path.join('runtime', 'list.ts');
    const listText = readFileSync(path.join(SRC, list), 'utf8');

    it('catches an import() that breaks an arrow', () => {
      const found = checkLayers(SRC, withFile(list, `${listText}\nexport const later = () => import('../shim/shim.js');\n`), arrows);
      expect(found.undrawn).toEqual(['runtime/list.ts -> shim']);
    });

    it('catches a double-quoted import that breaks an arrow', () => {
      const found = checkLayers(SRC, withFile(list, `import { report } from "../cli/exit.js";\n${listText}\nvoid report;\n`), arrows);
      expect(found.undrawn).toEqual(['runtime/list.ts -> cli']);
    });

    it('reads re-exports, require(), import types and import =, and leaves packages alone', () => {
      const text = [
        "export * from '../shim/a.js';",
        "export { b } from '../cli/b.js';",
        "const c = require('../shim/c.js');",
        "type D = typeof import('../cli/d.js');",
        "import e = require('../shim/e.js');",
        "import type { F } from '../cli/f.js';",
        "import { z } from 'zod';",
        "import fs from 'node:fs';",
      ].join('\n');
      expect(specifiersOf('x.ts', text)).toEqual(['../shim/a.js', '../cli/b.js', '../shim/c.js', '../cli/d.js', '../shim/e.js', '../cli/f.js', 'zod', 'node:fs']);
      expect(checkLayers(SRC, withFile(path.join('oci', 'x.ts'), text), arrows).undrawn).toEqual([
        'oci/x.ts -> shim',
        'oci/x.ts -> cli',
        'oci/x.ts -> shim',
        'oci/x.ts -> cli',
        'oci/x.ts -> shim',
        'oci/x.ts -> cli',
      ]);
    });

    it('catches a drawn arrow nobody uses and a layer the doc does not draw', () => {
      const drawn = parseLayers(doc.replace(/^oci\s*->.*$/m, 'oci      -> errors'));
      expect(checkLayers(SRC, tree(), drawn).unused).toEqual(['oci -> errors']);
      const found = checkLayers(SRC, withFile(path.join('plugins', 'a.ts'), 'export const a = 1;\n'), arrows);
      expect(found.unknownLayers).toEqual(['plugins (not drawn)']);
    });

    it('catches the native layer reached beside its face, and the addon loaded elsewhere', () => {
      const found = checkLayers(
        SRC,
        withFile(path.join('shim', 'x.ts'), "import { pipe } from '../native/shim.js';\nconst a = require('../../build/Release/tsrun_native.node');\n"),
        arrows,
      );
      expect(found.besideNativeFace).toEqual(['shim/x.ts -> native/shim.ts']);
      expect(found.addonLoaders).toEqual(['shim/x.ts', 'shim/x.ts']);
    });
  });
});
