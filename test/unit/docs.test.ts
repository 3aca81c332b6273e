// Guides that show code or link files: what they show is what the repository runs.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

test('docs/testing-your-setup.md shows test/examples/your-setup.test.ts unchanged', () => {
  const block = /```ts\n([\s\S]*?)```/.exec(read('docs/testing-your-setup.md'))![1];
  expect(block).toBe(read('test/examples/your-setup.test.ts'));
});

test('README links every guide in docs/, and every file a guide names exists', () => {
  const readme = read('README.md');
  for (const f of readdirSync(join(ROOT, 'docs')).filter((n) => n.endsWith('.md'))) expect(readme).toContain(`docs/${f}`);
  for (const f of readdirSync(join(ROOT, 'docs')).filter((n) => n.endsWith('.md'))) {
    for (const [, path] of read(`docs/${f}`).matchAll(/`((?:docs|deploy|examples|scripts|test|src)\/[\w./-]+\.\w+)`/g)) {
      expect({ guide: f, path, exists: existsSync(join(ROOT, path)) }).toEqual({ guide: f, path, exists: true });
    }
  }
});
