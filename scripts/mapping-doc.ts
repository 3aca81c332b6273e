// Writes the attribute table of docs/mapping.md from src/graph/mapping.ts (the one table the engine
// uses), between the BEGIN/END markers. Run: node bin/run-ts.js scripts/mapping-doc.ts
// test/unit/graph/mapping-doc.test.ts fails when the document and the table disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mode } from '../src/config';
import { attributeSetsFor, userMapping, type MappingRow } from '../src/graph/mapping';

export const BEGIN = '<!-- BEGIN generated from src/graph/mapping.ts by scripts/mapping-doc.ts -->';
export const END = '<!-- END generated -->';
const MODES: Mode[] = ['license-only', 'profile-sync', 'user-sync', 'universal-sync'];
const SHORT: Record<string, string> = {
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:': 'enterprise:',
  'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User:': 'graphbridge:',
};

function scimName(row: MappingRow): string {
  for (const [urn, short] of Object.entries(SHORT)) if (row.scim.startsWith(urn)) return short + row.scim.slice(urn.length);
  return row.scim;
}

function removal(row: MappingRow): string {
  if (row.clear === 'keep') return 'kept (Graph will not clear it)';
  return Array.isArray(row.clear) ? 'cleared ([])' : 'cleared (null)';
}

export function mappingTable(): string {
  const lines = [
    `| SCIM attribute | Graph property | set | ${MODES.join(' | ')} | max length | when the attribute is removed |`,
    `|---|---|---|${MODES.map(() => '---').join('|')}|---|---|`,
  ];
  // The 15 extension attributes read alike: one line stands for them.
  const rows = userMapping.filter((r) => !/extensionAttribute([2-9]|1[0-5])$/.test(r.graph));
  for (const row of rows) {
    const many = row.graph.endsWith('extensionAttribute1');
    const scim = many ? scimName(row).replace(/1$/, '1..15') : scimName(row);
    const graph = many ? row.graph.replace(/1$/, '1..15') : row.graph;
    const modes = MODES.map((m) => (attributeSetsFor(m).includes(row.set) ? 'yes' : '-'));
    lines.push(`| \`${scim}\` | \`${graph}\` | ${row.set} | ${modes.join(' | ')} | ${row.maxLength ?? ''} | ${removal(row)} |`);
  }
  return lines.join('\n');
}

export function render(doc: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error('docs/mapping.md lacks the generated-table markers');
  return `${doc.slice(0, start + BEGIN.length)}\n${mappingTable()}\n${doc.slice(end)}`;
}

if (process.argv[1]?.endsWith('mapping-doc.ts')) {
  const file = join(__dirname, '../docs/mapping.md');
  writeFileSync(file, render(readFileSync(file, 'utf8')));
  process.stdout.write(`${file} updated\n`);
}
