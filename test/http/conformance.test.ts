// Microsoft's Entra SCIM reference collection (AzureAD/SCIMReferenceCode, MIT), run by newman
// against the app listening on a free port with an empty store. Every assertion must pass.
// The collection is a verbatim copy of ../shared/conformance/ (CI has shared/ beside the clone,
// so the copy under test/fixtures keeps the suite self-contained). Its requests carry no
// Authorization header: the token is passed as the `token` variable and sent as bearer auth.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { createApp } from '../../src/scim/app';
import { openStore, type Store } from '../../src/store';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- newman ships no types
const newman = require('newman') as { run(options: unknown, cb: (err: Error | null, summary: NewmanSummary) => void): void };

interface NewmanSummary {
  run: {
    stats: { assertions: { total: number; failed: number }; requests: { total: number; failed: number } };
    failures: { source?: { name?: string }; error: { name?: string; test?: string; message: string } }[];
    executions: { item: { name: string }; response?: { code: number } }[];
  };
}

const TOKEN = 'conformance-token-0123456789abcdef';
const FOLDERS = [
  'Endpoint tests',
  'User tests',
  'Group tests',
  'ComplexAttribute tests',
  'User tests with garbage',
  'Group tests with garbage',
  'Teardown garbage',
  'Get all users',
  'Get all groups',
];

let dir: string;
let store: Store;
let server: Server;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'bridge-conformance-'));
  const database = path.join(dir, 'bridge.sqlite');
  const config = loadConfig({ env: {}, overrides: { database, logLevel: 'silent', sources: [{ id: 'entra', token: TOKEN }] } });
  store = openStore(database, { mode: config.mode, sources: config.sources });
  const app = createApp({ config, store, logger: createLogger('silent') });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

function runCollection(port: number): Promise<NewmanSummary> {
  const file = path.join(__dirname, '../fixtures/conformance/entra-scim-reference.postman_collection.json');
  const collection = JSON.parse(readFileSync(file, 'utf8'));
  collection.auth = { type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] };
  // Select the top-level items by name here rather than with newman's `folder` option: that one
  // resolves a name to its first match anywhere, and "Get all users" also names a request inside
  // "User tests with garbage", so the final "Get all users" would silently not run.
  collection.item = FOLDERS.map((name) => {
    const item = collection.item.find((i: { name: string }) => i.name === name);
    if (!item) throw new Error(`collection has no top-level item "${name}"`);
    return item;
  });
  const envVar = [
    { key: 'Protocol', value: 'http' },
    { key: 'Server', value: '127.0.0.1' },
    { key: 'Port', value: `:${port}` },
    { key: 'Api', value: 'scim/v2' },
    { key: 'token', value: TOKEN },
  ];
  return new Promise((resolve, reject) => {
    newman.run({ collection, envVar, reporters: [], timeoutRequest: 10_000 }, (err, summary) => (err ? reject(err) : resolve(summary)));
  });
}

test('every assertion of the Entra SCIM reference collection passes', async () => {
  const { port } = server.address() as { port: number };
  const summary = await runCollection(port);
  const failures = summary.run.failures.map((f) => `${f.source?.name ?? '?'}: ${f.error.test ?? f.error.name ?? ''} ${f.error.message}`);
  expect(failures).toEqual([]);
  // 78 requests and 107 pm.test assertions in the chosen items (the collection's "Get Token" excluded).
  expect(summary.run.stats.requests.total).toBe(78);
  expect(summary.run.stats.assertions.total).toBe(107);
  expect(summary.run.stats.assertions.failed).toBe(0);
}, 60_000);
