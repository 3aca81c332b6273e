// Config: the defaults SPEC section 12 promises, environment over file, and an environment
// variable for every key with its own type.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentKeys, envNameOf, loadConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

/** Paths of every leaf of a parsed config (arrays and empty maps are leaves). */
function leaves(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

test('defaults: port 8080, data/bridge.sqlite, profile-sync, no sources', () => {
  const c = loadConfig({ env: {} });
  expect([c.port, c.database, c.mode, c.sources]).toEqual([8080, 'data/bridge.sqlite', 'profile-sync', []]);
});

test('BRIDGE_PORT, BRIDGE_DATABASE and BRIDGE_MODE win over the file', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'bridge-config-')), 'c.json');
  writeFileSync(file, JSON.stringify({ port: 9000, database: 'a.sqlite', mode: 'profile-sync' }));
  const c = loadConfig({ file, env: { BRIDGE_PORT: '0', BRIDGE_DATABASE: 'b.sqlite', BRIDGE_MODE: 'user-sync' } });
  expect([c.port, c.database, c.mode]).toEqual([0, 'b.sqlite', 'user-sync']);
  expect(loadConfig({ env: { BRIDGE_CONFIG: file } }).port).toBe(9000);
});

test('every key has an environment variable', () => {
  const names = environmentKeys();
  const paths = new Set(Object.values(names));
  const parsed = loadConfig({ env: {}, overrides: { adminToken: 'x'.repeat(16), 'graph.tenantId': 't', 'graph.clientId': 'c', 'graph.clientSecret': 's', 'graph.certificatePath': 'p', 'graph.caFile': 'f', 'defaults.usageLocation': 'US', 'graph.simulator.enabled': true, 'graph.simulator.seedFile': 's.json' } });
  for (const path of leaves(parsed)) expect([path, paths.has(path)]).toEqual([path, true]);
  expect(envNameOf('graph.allowTenantDirSync')).toBe('BRIDGE_GRAPH_ALLOW_TENANT_DIR_SYNC');
  expect(names.BRIDGE_GRAPH_SIMULATOR_SEED_FILE).toBe('graph.simulator.seedFile');
});

test('each variable keeps its type: digits stay text where the key is text; numbers, booleans and JSON are read as such', () => {
  const c = loadConfig({
    env: {
      BRIDGE_ADMIN_TOKEN: '1234567890123456',
      BRIDGE_GRAPH_CLIENT_SECRET: '42',
      BRIDGE_LIMITS_BODY_BYTES: '2048',
      BRIDGE_GRAPH_SIMULATOR_THROTTLING: 'false',
      BRIDGE_SOURCES: '[{"id":"okta","token":"okta-token-0123456789"}]',
      BRIDGE_LICENSES_SKUS: '["SPE_E3"]',
    },
  });
  expect([c.adminToken, c.graph.clientSecret, c.limits.bodyBytes, c.graph.simulator.throttling, c.sources.map((s) => s.id), c.licenses.skus]).toEqual([
    '1234567890123456', '42', 2048, false, ['okta'], ['SPE_E3'],
  ]);
});

test('a bad value names the key', () => {
  expect(() => loadConfig({ env: { BRIDGE_PORT: 'eighty' } })).toThrow('port: Invalid input: expected number, received string');
  expect(() => loadConfig({ env: { BRIDGE_SOURCES: '[{' } })).toThrow(ConfigError);
  expect(() => loadConfig({ env: { BRIDGE_SOURCES: '[{' } })).toThrow(/BRIDGE_SOURCES: not valid JSON/);
});
