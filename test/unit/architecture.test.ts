// The house stays as docs/architecture.md draws it: every import points down a layer (or stays inside
// its own folder), and no module imports itself back through others. Reads the imports of src/ as text
// (static `import … from` and `import(…)` with a literal path), so it needs no build.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT } from '../helpers.js';

const SRC = join(PROJECT, 'src');

/**
 * The layers, lowest first. A module may import modules of a lower layer, or of its own top folder;
 * never one of a higher layer, nor of another folder on the same layer.
 */
export const LAYERS: string[][] = [
  ['error-codes.ts'],
  ['errors.ts', 'events.ts'],
  ['base'],
  ['objects'],
  ['repo'],
  ['pointer', 'scm', 'remotes'],
  ['transfer', 'diff', 'workspace'],
  ['audit'],
  ['lineage'],
  ['runs'],
  ['ops'],
  ['commands'],
  // The two front doors, side by side: the command line, and the library API (`import … from 'dvs'`).
  ['cli', 'api'],
];

const rankOf = new Map<string, number>();
LAYERS.forEach((names, rank) => names.forEach((n) => rankOf.set(n, rank)));

/** The top folder (or root file) a module of src/ belongs to. */
function topOf(file: string): string {
  return relative(SRC, file).split('/')[0];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const abs = join(dir, name);
    if (statSync(abs).isDirectory()) out.push(...sourceFiles(abs));
    else if (name.endsWith('.ts')) out.push(abs);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Each module's imports of other modules of src/ (type-only imports included: they are part of the design). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      targets.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components with more than one module (or a module importing itself): the cycles. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(relative(SRC, w));
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

describe('the architecture', () => {
  const graph = importGraph();

  it('reads the imports it checks', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect([...graph.values()].flat().length).toBeGreaterThan(300);
  });

  it('places every top folder of src/ on a layer', () => {
    const tops = new Set([...graph.keys()].map(topOf));
    expect([...tops].filter((t) => !rankOf.has(t))).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('has no import that points up a layer or sideways to another folder of the same layer', () => {
    const bad: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        const a = topOf(from);
        const b = topOf(to);
        if (a === b) continue;
        if (!(rankOf.get(b)! < rankOf.get(a)!)) bad.push(`${relative(SRC, from)} -> ${relative(SRC, to)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('keeps the library API a front door: nothing imports it, and it never prints or exits', () => {
    const importers = [...graph].filter(([from, targets]) => topOf(from) !== 'api' && targets.some((t) => topOf(t) === 'api'));
    expect(importers.map(([from]) => relative(SRC, from))).toEqual([]);
    const api = [...graph.keys()].filter((f) => topOf(f) === 'api');
    expect(api.map((f) => relative(SRC, f))).toContain('api/index.ts');
    for (const f of api) expect(readFileSync(f, 'utf8'), relative(SRC, f)).not.toMatch(/process\.(exit|stdout|stderr)|console\./);
  });

  it('keeps the ops grouped by capability, each group folder saying what lives there', () => {
    const groups = readdirSync(join(SRC, 'ops')).filter((n) => statSync(join(SRC, 'ops', n)).isDirectory());
    expect(groups.sort()).toEqual(['data', 'git', 'history', 'registry', 'remote', 'setup']);
    for (const g of groups) expect(readdirSync(join(SRC, 'ops', g))).toContain('README.md');
  });

  it('loads no backend from another backend (a GCS remote must not load the AWS SDK)', () => {
    const backends = ['local.ts', 's3.ts', 'gcs.ts', 'azure.ts'].map((b) => join(SRC, 'remotes', b));
    for (const b of backends) {
      const others = backends.filter((o) => o !== b);
      expect((graph.get(b) ?? []).filter((t) => others.includes(t)), relative(SRC, b)).toEqual([]);
    }
  });
});
