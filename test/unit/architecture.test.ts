// Dependencies point one way (docs/internals.md, "Dependencies"): the ingress and the store know
// nothing of Graph, graph/ knows nothing of SQLite or express, the simulator imports nothing of the
// bridge, and no folder depends on one that depends on it. Read from the import statements of src/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(__dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** The box of a file: its folder under src/, or the file's own name for top-level modules (main, config, ...). */
function boxOf(file: string): string {
  const rel = relative(SRC, file).replace(/\\/g, '/');
  return rel.includes('/') ? rel.split('/')[0] : rel.replace(/\.ts$/, '');
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"`;]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|\brequire\(\s*'([^']+)'\s*\)/g;

/** Every relative import of src/, as box -> box edges, with the files that make each edge. */
function edges(): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      // Data outside src/ (schemas/*.json) is no box.
      if (relative(SRC, target).startsWith('..')) continue;
      const from = boxOf(file);
      const to = boxOf(target + '.ts');
      if (from === to) continue;
      const targets = out.get(from) ?? new Map<string, string[]>();
      targets.set(to, [...(targets.get(to) ?? []), relative(SRC, file)]);
      out.set(from, targets);
    }
  }
  return out;
}

const graph = edges();
const importsOf = (box: string) => [...(graph.get(box)?.keys() ?? [])].sort();

// What each box may import; anything else is an arrow the wrong way.
const ALLOWED: Record<string, string[]> = {
  errors: [],
  log: [],
  config: ['errors'],
  rules: ['config', 'errors'],
  store: ['config', 'errors', 'log', 'rules'],
  scim: ['config', 'errors', 'log', 'rules', 'store'],
  graph: ['config', 'errors', 'log', 'rules'],
  sync: ['config', 'errors', 'log', 'rules', 'store', 'graph'],
  simulator: [],
  admin: ['config', 'errors', 'log', 'store', 'sync', 'graph'],
  'demo-tenant': ['simulator'],
  tls: ['log'],
  main: ['admin', 'config', 'demo-tenant', 'errors', 'graph', 'log', 'scim', 'simulator', 'store', 'sync', 'tls'],
  cli: ['admin', 'config', 'errors', 'graph', 'log', 'main', 'simulator', 'store', 'sync'],
};

test.each(Object.keys(ALLOWED))('%s imports only what lies below it', (box) => {
  const wrong = importsOf(box).filter((to) => !ALLOWED[box].includes(to));
  expect(Object.fromEntries(wrong.map((to) => [to, graph.get(box)!.get(to)]))).toEqual({});
});

test('every box of src/ is named above', () => {
  expect([...new Set(sources(SRC).map(boxOf))].filter((box) => !(box in ALLOWED))).toEqual([]);
});

test('no cycle between boxes', () => {
  const cycles: string[] = [];
  const visit = (box: string, path: string[]) => {
    for (const next of importsOf(box)) {
      if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
      else visit(next, [...path, next]);
    }
  };
  for (const box of graph.keys()) visit(box, [box]);
  expect(cycles).toEqual([]);
});
