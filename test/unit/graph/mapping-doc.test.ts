// docs/mapping.md carries the attribute table generated from src/graph/mapping.ts: the document an
// operator reads must say what the engine writes. Regenerate with node bin/run-ts.js scripts/mapping-doc.ts
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mappingTable, render } from '../../../scripts/mapping-doc';
import { userMapping } from '../../../src/graph/mapping';

const doc = readFileSync(join(__dirname, '../../../docs/mapping.md'), 'utf8');

test('docs/mapping.md holds the table generated from the mapping', () => {
  expect(render(doc)).toBe(doc);
});

test('the table has one line per mapping row (extensionAttribute1..15 as one) with the Graph target and set', () => {
  const lines = mappingTable().split('\n').slice(2);
  expect(lines).toHaveLength(userMapping.length - 14);
  expect(lines).toContain('| `userName` | `userPrincipalName` | basic | - | yes | yes | yes |  | kept (Graph will not clear it) |');
  expect(lines).toContain('| `enterprise:department` | `department` | extended | - | - | yes | yes | 64 | cleared (null) |');
  expect(lines).toContain(
    '| `graphbridge:extensionAttribute1..15` | `onPremisesExtensionAttributes.extensionAttribute1..15` | allExtended | - | - | - | yes | 1024 | cleared (null) |',
  );
});
