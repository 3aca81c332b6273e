// Config: the defaults SPEC section 12 promises, environment over file, and an environment
// variable for every key with its own type.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentKeys, envNameOf, loadConfig, usesSimulator } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { openRuntime } from '../../src/main';
import { openStore } from '../../src/store';

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
  const parsed = loadConfig({
    env: {},
    overrides: {
      adminToken: 'x'.repeat(16),
      'graph.tenantId': 't',
      'graph.clientId': 'c',
      'graph.clientSecret': 's',
      'graph.certificatePath': 'p',
      'graph.caFile': 'f',
      'defaults.usageLocation': 'US',
      'graph.simulator.enabled': true,
      'graph.simulator.seedFile': 's.json',
      'tls.certFile': 'c.pem',
      'tls.keyFile': 'k.pem',
      secretsKey: '0'.repeat(64),
      trustProxy: 'loopback',
    },
  });
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
    '1234567890123456',
    '42',
    2048,
    false,
    ['okta'],
    ['SPE_E3'],
  ]);
});

test('a bad value names the key', () => {
  expect(() => loadConfig({ env: { BRIDGE_PORT: 'eighty' } })).toThrow('port: Invalid input: expected number, received string');
  expect(() => loadConfig({ env: { BRIDGE_SOURCES: '[{' } })).toThrow(ConfigError);
  expect(() => loadConfig({ env: { BRIDGE_SOURCES: '[{' } })).toThrow(/BRIDGE_SOURCES: not valid JSON/);
});

describe('two sources with one token are refused, naming both and never the token', () => {
  const token = 'shared-token-0123456789abcdef';
  const sha = (t: string) => createHash('sha256').update(t).digest('hex');

  test.each([
    [
      'both plain, in the file',
      {
        sources: [
          { id: 'okta', token },
          { id: 'entra', token },
        ],
      },
      {},
    ],
    [
      'plain and its sha256 (upper case)',
      {
        sources: [
          { id: 'okta', token },
          { id: 'entra', tokenSha256: sha(token).toUpperCase() },
        ],
      },
      {},
    ],
    [
      'both as sha256, from BRIDGE_SOURCES',
      {},
      {
        BRIDGE_SOURCES: JSON.stringify([
          { id: 'okta', tokenSha256: sha(token) },
          { id: 'entra', tokenSha256: sha(token) },
        ]),
      },
    ],
  ])('%s', (_what, file, env) => {
    const path = join(mkdtempSync(join(tmpdir(), 'bridge-config-')), 'c.json');
    writeFileSync(path, JSON.stringify(file));
    let error: unknown;
    try {
      loadConfig({ file: path, env });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual(['sources.1: sources "okta" and "entra" have the same token; give each source its own']);
    expect((error as Error).message).not.toContain(token);
    expect((error as Error).message).not.toContain(sha(token));
  });

  test('a source added with `sources add` whose token a configured source already uses stops the start', async () => {
    const database = join(mkdtempSync(join(tmpdir(), 'bridge-config-')), 'b.sqlite');
    const config = loadConfig({ env: {}, overrides: { database, logLevel: 'silent', sources: [{ id: 'okta', token }] } });
    const store = openStore(database, { mode: config.mode, sources: config.sources });
    store.sourceTokens.add('onelogin', sha(token), []);
    store.close();
    await expect(openRuntime(config, { simulator: false })).rejects.toThrow(
      'sources.1: sources "okta" and "onelogin" have the same token; give each source its own',
    );
  });

  test('distinct tokens load', () => {
    expect(
      loadConfig({
        env: {},
        overrides: {
          sources: [
            { id: 'okta', token },
            { id: 'entra', token: `${token}x` },
          ],
        },
      }).sources,
    ).toHaveLength(2);
  });
});

test('sources[].adopt: absent by default; domains lower-cased; a bad domain, an empty list or an unknown key names the key', () => {
  const src = { id: 'okta', token: 'okta-token-0123456789abcdef' };
  expect(loadConfig({ env: {}, overrides: { sources: [src] } }).sources[0].adopt).toBeUndefined();
  expect(loadConfig({ env: {}, overrides: { sources: [{ ...src, adopt: { domains: ['Contoso.COM', '*'] } }] } }).sources[0].adopt).toEqual({
    domains: ['contoso.com', '*'],
    groups: false,
  });
  expect(() => loadConfig({ env: {}, overrides: { sources: [{ ...src, adopt: { domains: ['@contoso.com'] } }] } })).toThrow(
    'sources.0.adopt.domains.0: a DNS domain name (contoso.com) or "*"',
  );
  expect(() => loadConfig({ env: {}, overrides: { sources: [{ ...src, adopt: { domains: [] } }] } })).toThrow(
    'sources.0.adopt.domains: at least one domain, or "*"',
  );
  expect(() => loadConfig({ env: {}, overrides: { sources: [{ ...src, adopt: { domain: 'contoso.com' } }] } })).toThrow(/sources\.0\.adopt/);
});

test('"graph": {"simulator": true | false} is shorthand for {"enabled": true | false}, with the defaults beside it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-config-'));
  const on = join(dir, 'on.json');
  const off = join(dir, 'off.json');
  writeFileSync(on, JSON.stringify({ graph: { tenantId: 't', clientId: 'c', clientSecret: 's', simulator: true } }));
  writeFileSync(off, JSON.stringify({ graph: { simulator: false } }));
  expect(loadConfig({ file: on, env: {} }).graph.simulator).toEqual({ enabled: true, port: 0, timeScale: 1, throttling: true });
  expect(usesSimulator(loadConfig({ file: on, env: {} }))).toBe(true);
  expect(loadConfig({ file: off, env: {} }).graph.simulator).toEqual({ enabled: false, port: 0, timeScale: 1, throttling: true });
  expect(usesSimulator(loadConfig({ file: off, env: {} }))).toBe(false);
  // A variable for another simulator key keeps the shorthand's enabled.
  expect(loadConfig({ file: on, env: { BRIDGE_GRAPH_SIMULATOR_PORT: '4443' } }).graph.simulator).toEqual({
    enabled: true,
    port: 4443,
    timeScale: 1,
    throttling: true,
  });
  expect(loadConfig({ env: {}, overrides: { 'graph.simulator': false } }).graph.simulator.enabled).toBe(false);
  expect(() => loadConfig({ env: {}, overrides: { 'graph.simulator': 'yes' } })).toThrow(/graph\.simulator/);
});
