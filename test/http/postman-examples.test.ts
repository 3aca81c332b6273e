// The Postman collection in examples/postman, run by newman as a user would run it (its own
// environment file, with the URL and tokens of a bridge this test starts): every request and every
// assertion must pass, twice in a row against the same bridge (the collection cleans up after itself).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { type Bridge, startBridge } from '../../src/main';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- newman ships no types
const newman = require('newman') as { run(options: unknown, cb: (err: Error | null, summary: NewmanSummary) => void): void };

interface NewmanSummary {
  run: {
    stats: { assertions: { total: number; failed: number }; requests: { total: number; failed: number } };
    failures: { source?: { name?: string }; error: { name?: string; test?: string; message: string } }[];
  };
}

jest.setTimeout(60_000);

const EXAMPLES = resolve(__dirname, '../../examples/postman');
const SOURCE_TOKEN = 'postman-example-source-token-0123456789';
const ADMIN_TOKEN = 'postman-example-admin-token-0123456789';

let dir: string;
let bridge: Bridge;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-postman-'));
  const config = loadConfig({
    env: {},
    overrides: {
      port: 0,
      host: '127.0.0.1',
      database: join(dir, 'b.sqlite'),
      adminToken: ADMIN_TOKEN,
      sources: [{ id: 'okta', token: SOURCE_TOKEN }],
      logLevel: 'silent',
    },
  });
  bridge = await startBridge(config, { logger: createLogger('silent') });
});

afterAll(async () => {
  await bridge?.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(): Promise<NewmanSummary> {
  const collection = JSON.parse(readFileSync(join(EXAMPLES, 'scim-graph-bridge.postman_collection.json'), 'utf8'));
  const environment = JSON.parse(readFileSync(join(EXAMPLES, 'scim-graph-bridge.postman_environment.json'), 'utf8'));
  const values: Record<string, string> = { baseUrl: bridge.scimUrl.replace(/\/scim\/v2$/, ''), scimToken: SOURCE_TOKEN, adminToken: ADMIN_TOKEN };
  expect(environment.values.map((v: { key: string }) => v.key).sort()).toEqual(Object.keys(values).sort());
  for (const v of environment.values) v.value = values[v.key];
  return new Promise((done, fail) => newman.run({ collection, environment, reporters: [], timeoutRequest: 10_000 }, (err, s) => (err ? fail(err) : done(s))));
}

test('every request and assertion of the example collection passes, and it runs again on the same bridge', async () => {
  for (let i = 0; i < 2; i++) {
    const summary = await run();
    const failures = summary.run.failures.map((f) => `${f.source?.name ?? '?'}: ${f.error.test ?? f.error.name ?? ''} ${f.error.message}`);
    expect(failures).toEqual([]);
    expect(summary.run.stats.requests).toEqual({ total: 23, pending: 0, failed: 0 });
    expect(summary.run.stats.assertions).toEqual({ total: 23, pending: 0, failed: 0 });
  }
  // What the collection did reached the store: two users created and deleted, with their audit rows.
  const actions = bridge.store.audit.list({ resourceType: 'User', limit: 1000 }).map((a) => a.action);
  expect(actions.filter((a) => a === 'user.create')).toHaveLength(2);
  expect(actions.filter((a) => a === 'user.delete')).toHaveLength(2);
});
