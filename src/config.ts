// The one reader of the environment: process.env, or the env a caller passes (the CLI passes its io's).
// Loads a JSON config file, applies environment overrides, validates with zod and returns a frozen
// object passed down explicitly.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors';

const directorySchema = z.object({
  id: z.string().min(1),
  type: z.enum(['ad', 'ldap', 'cloud']).default('ad'),
  jit: z.boolean().default(false),
});

const sourceSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash or underscore, at most 64'),
    token: z.string().min(16, 'at least 16 characters').optional(),
    tokenSha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, '64 hex digits')
      .optional(),
    directories: z.array(directorySchema).default([]),
    // Attributes this source may set on resources owned by another source (SPEC section 3).
    contributes: z.array(z.string()).default([]),
    // A source that may see and change every resource (an operator's script, say).
    seesAll: z.boolean().default(false),
    // Tenant users the bridge never managed that this source's users may be linked to (matched by
    // onPremisesImmutableId or UPN), by the matched user's UPN domain ("*" for every domain), and whether
    // its groups may be linked to existing tenant groups. Absent: none (license-only matches existing
    // users by definition). docs/security.md.
    adopt: z
      .object({
        domains: z
          .array(
            z
              .string()
              .transform((d) => d.trim().toLowerCase())
              .refine(
                (d) => d === '*' || /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(d),
                'a DNS domain name (contoso.com) or "*"',
              ),
          )
          .min(1, 'at least one domain, or "*"')
          .optional(),
        // Tenant security groups the bridge never managed, matched by displayName and mailNickname.
        groups: z.boolean().default(false),
      })
      .strict()
      .optional(),
  })
  .refine((s) => Boolean(s.token) !== Boolean(s.tokenSha256), {
    message: 'give exactly one of token or tokenSha256',
  });

export const modes = ['license-only', 'profile-sync', 'user-sync', 'universal-sync'] as const;
export type Mode = (typeof modes)[number];

const graphSchema = z.object({
  tenantId: z.string().optional(),
  clientId: z.string().optional(),
  clientSecret: z.string().optional(),
  certificatePath: z.string().optional(),
  baseUrl: z.string().url().default('https://graph.microsoft.com'),
  authorityHost: z.string().url().default('https://login.microsoftonline.com'),
  caFile: z.string().optional(),
  // Run the embedded Graph simulator; defaults to true when no tenant credentials are given.
  // `true` / `false` is shorthand for `{ "enabled": true }` / `{ "enabled": false }`.
  simulator: z
    .preprocess(
      (v) => (typeof v === 'boolean' ? { enabled: v } : v),
      z.object({
        enabled: z.boolean().optional(),
        port: z.number().int().min(0).max(65535).default(0),
        seedFile: z.string().optional(),
        timeScale: z.number().positive().default(1),
        throttling: z.boolean().default(true),
      }),
    )
    .default({ port: 0, timeScale: 1, throttling: true }),
  allowTenantDirSync: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  // The tenant uses hybrid Azure AD join (blocks user-sync and universal-sync, SPEC section 6).
  hybridJoin: z.boolean().default(false),
  // Write budget: Microsoft's published identity limit is 3,000 writes per 150 s per app and tenant.
  writeBudget: z
    .object({ writes: z.number().int().positive().default(3000), perSeconds: z.number().positive().default(150) })
    .default({ writes: 3000, perSeconds: 150 }),
  // Who writes users: 'graph' (the bridge's own Graph calls) or 'inbound' (SCIM bulk requests to an
  // API-driven inbound provisioning app, which the Entra provisioning service applies; docs/inbound-writer.md).
  writer: z.enum(['graph', 'inbound']).default('graph'),
  inbound: z
    .object({
      // The inbound provisioning app's service principal object id and its provisioning job id.
      servicePrincipalId: z.string().regex(/^[0-9a-fA-F-]{36}$/, 'the service principal object id (a GUID)'),
      jobId: z.string().min(1, 'the provisioning job id (API2AAD.... or API2AD....)'),
      // Where the app provisions: Microsoft Entra ID (cloud users) or on-premises AD through the provisioning agent.
      target: z.enum(['entra', 'ad']),
      // Microsoft: 40 bulkUpload calls in any 5-second window, and a tenant quota of 2,000 calls per 24 h
      // (Entra ID P1/P2; 6,000 with Entra ID Governance): inbound-provisioning-api-concepts.
      rate: z
        .object({ requests: z.number().int().positive().default(40), perSeconds: z.number().positive().default(5) })
        .default({ requests: 40, perSeconds: 5 }),
      dailyQuota: z.number().int().positive().default(2000),
      // How long a request of fewer than 50 records waits for more before it goes anyway (urgent records
      // never wait): the quota counts calls, not records. 60 s: one partial request a minute is 1,440 a day,
      // within the 2,000; docs/inbound-writer.md, "Batching".
      batchWaitSeconds: z.number().min(0).default(60),
      // How often the provisioning logs are read for records sent and not yet reported.
      pollSeconds: z.number().positive().default(60),
    })
    .strict()
    .optional(),
  // Resource units per 10 s per app and tenant by tenant size (Microsoft: S 3,500, M 5,000, L 8,000);
  // the default is the smallest, which fits every tenant.
  resourceUnits: z
    .object({ units: z.number().int().positive().default(3500), perSeconds: z.number().positive().default(10) })
    .default({ units: 3500, perSeconds: 10 }),
});

export const configSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(8080),
    host: z.string().default('0.0.0.0'),
    database: z.string().default('data/bridge.sqlite'),
    mode: z.enum(modes).default('profile-sync'),
    // Set when moving down from user-sync/universal-sync (SPEC section 2).
    confirmModeChange: z.boolean().default(false),
    sources: z.array(sourceSchema).default([]),
    // After `sources rotate`, the previous token of a source stays valid this long (default 24 h).
    tokenGraceSeconds: z.number().int().min(0).default(86_400),
    graph: graphSchema.default(graphSchema.parse({})),
    defaults: z.object({ usageLocation: z.string().length(2).optional() }).default({}),
    // Licences a user gets: `default` (every provisioned user), SCIM entitlements, and `groups`
    // (group -> SKUs); `skus`, when not empty, is the allow-list of what the bridge may assign.
    // SKU part numbers (ENTERPRISEPACK) or skuIds. `assignment`: 'direct' assigns each user's licences
    // with assignLicense; 'group' keeps one security group per SKU, licensed once, and adds licensed
    // users to it 20 to a write (group-based licensing, docs/licensing.md).
    licenses: z
      .object({
        default: z.array(z.string()).default([]),
        skus: z.array(z.string()).default([]),
        groups: z.record(z.string(), z.array(z.string())).default({}),
        assignment: z.enum(['direct', 'group']).default('direct'),
      })
      .default({ default: [], skus: [], groups: {}, assignment: 'direct' }),
    groups: z.object({ push: z.boolean().default(false) }).default({ push: false }),
    deprovision: z.enum(['disable', 'delete']).default('disable'),
    deletionThreshold: z.number().int().min(0).default(50),
    drift: z.object({ intervalSeconds: z.number().positive().default(300) }).default({ intervalSeconds: 300 }),
    // Queue order: 'priority' sends changes to resources already in Graph (deactivations, deletions,
    // password and token-validity changes, licence and member removals) and operator retries ahead
    // of creations, keeping at least one creation every `creationEvery` urgent rows; 'fifo' is the
    // order of arrival.
    sync: z
      .object({ order: z.enum(['priority', 'fifo']).default('priority'), creationEvery: z.number().int().min(1).default(20) })
      .default({ order: 'priority', creationEvery: 20 }),
    adminToken: z.string().min(16).optional(),
    // Key sealing pending passwords in the database (AES-256-GCM): 32 bytes as 64 hex digits or base64.
    // Absent: secrets.key next to the database, generated once with mode 0600 (docs/security.md).
    secretsKey: z
      .string()
      .refine((k) => /^\s*([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)\s*$/.test(k), '32 bytes as 64 hex digits or base64 (openssl rand -base64 32)')
      .optional(),
    limits: z
      .object({ bodyBytes: z.number().int().positive().default(1_048_576), bulkOperations: z.number().int().positive().default(1000) })
      .default({ bodyBytes: 1_048_576, bulkOperations: 1000 }),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // Serve SCIM and admin over HTTPS: PEM certificate (chain) and key files, reloaded on change and SIGHUP.
    tls: z
      .object({ certFile: z.string().min(1).optional(), keyFile: z.string().min(1).optional() })
      .refine((t) => Boolean(t.certFile) === Boolean(t.keyFile), { message: 'give both certFile and keyFile, or neither' })
      .default({}),
    // Behind a reverse proxy: which hops' X-Forwarded-For/-Proto to believe (express "trust proxy": "loopback",
    // addresses or subnets, comma separated). Absent: none, the peer address is the client.
    trustProxy: z.string().min(1).optional(),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.graph.writer === 'inbound' && !cfg.graph.inbound) {
      ctx.addIssue({
        code: 'custom',
        path: ['graph', 'inbound'],
        message: 'graph.writer "inbound" needs graph.inbound: { servicePrincipalId, jobId, target: "entra" | "ad" } (docs/inbound-writer.md)',
      });
    }
    if (cfg.mode === 'universal-sync') {
      cfg.sources.forEach((s, i) =>
        s.directories.forEach((d, j) => {
          if (d.jit)
            ctx.addIssue({
              code: 'custom',
              path: ['sources', i, 'directories', j, 'jit'],
              message: `universal-sync refuses JIT directory "${d.id}" of source "${s.id}": its users would be marked synced without an authoritative directory`,
            });
        }),
      );
    }
    const ids = new Set<string>();
    cfg.sources.forEach((s, i) => {
      if (ids.has(s.id)) ctx.addIssue({ code: 'custom', path: ['sources', i, 'id'], message: `duplicate source id "${s.id}"` });
      ids.add(s.id);
    });
    // A token names one source: two sharing one (plain or as sha256, from the file, the environment or
    // `sources add`, which is merged through this schema) would let either act as the other.
    const byToken = new Map<string, string>();
    cfg.sources.forEach((s, i) => {
      const hash = s.token ? createHash('sha256').update(s.token).digest('hex') : s.tokenSha256?.toLowerCase();
      if (!hash) return;
      const first = byToken.get(hash);
      if (first !== undefined && first !== s.id) {
        ctx.addIssue({ code: 'custom', path: ['sources', i], message: `sources "${first}" and "${s.id}" have the same token; give each source its own` });
      } else byToken.set(hash, s.id);
    });
  });

export type Config = Readonly<z.infer<typeof configSchema>>;
export type SourceConfig = z.infer<typeof sourceSchema>;
export type DirectoryConfig = z.infer<typeof directorySchema>;

// Environment overrides: every key as BRIDGE_ and its path in upper snake case, e.g.
// BRIDGE_GRAPH_CLIENT_SECRET -> graph.clientSecret (BRIDGE_PORT, BRIDGE_DATABASE, BRIDGE_MODE: SPEC
// section 12). Each key has its kind, so a digits-only secret stays a string; lists and maps are JSON.
type EnvKind = 'string' | 'number' | 'boolean' | 'json';
const envPaths: [string, EnvKind][] = [
  ['port', 'number'],
  ['host', 'string'],
  ['database', 'string'],
  ['mode', 'string'],
  ['confirmModeChange', 'boolean'],
  ['sources', 'json'],
  ['tokenGraceSeconds', 'number'],
  ['adminToken', 'string'],
  ['secretsKey', 'string'],
  ['logLevel', 'string'],
  ['deprovision', 'string'],
  ['deletionThreshold', 'number'],
  ['defaults.usageLocation', 'string'],
  ['licenses.default', 'json'],
  ['licenses.skus', 'json'],
  ['licenses.groups', 'json'],
  ['licenses.assignment', 'string'],
  ['groups.push', 'boolean'],
  ['drift.intervalSeconds', 'number'],
  ['sync.order', 'string'],
  ['sync.creationEvery', 'number'],
  ['limits.bodyBytes', 'number'],
  ['limits.bulkOperations', 'number'],
  ['tls.certFile', 'string'],
  ['tls.keyFile', 'string'],
  ['trustProxy', 'string'],
  ['graph.tenantId', 'string'],
  ['graph.clientId', 'string'],
  ['graph.clientSecret', 'string'],
  ['graph.certificatePath', 'string'],
  ['graph.baseUrl', 'string'],
  ['graph.authorityHost', 'string'],
  ['graph.caFile', 'string'],
  ['graph.allowTenantDirSync', 'boolean'],
  ['graph.dryRun', 'boolean'],
  ['graph.hybridJoin', 'boolean'],
  ['graph.simulator.enabled', 'boolean'],
  ['graph.simulator.port', 'number'],
  ['graph.simulator.seedFile', 'string'],
  ['graph.simulator.timeScale', 'number'],
  ['graph.simulator.throttling', 'boolean'],
  ['graph.writer', 'string'],
  ['graph.inbound.servicePrincipalId', 'string'],
  ['graph.inbound.jobId', 'string'],
  ['graph.inbound.target', 'string'],
  ['graph.inbound.rate.requests', 'number'],
  ['graph.inbound.rate.perSeconds', 'number'],
  ['graph.inbound.dailyQuota', 'number'],
  ['graph.inbound.batchWaitSeconds', 'number'],
  ['graph.inbound.pollSeconds', 'number'],
  ['graph.writeBudget.writes', 'number'],
  ['graph.writeBudget.perSeconds', 'number'],
  ['graph.resourceUnits.units', 'number'],
  ['graph.resourceUnits.perSeconds', 'number'],
];

/** graph.clientSecret -> BRIDGE_GRAPH_CLIENT_SECRET */
export function envNameOf(path: string): string {
  return `BRIDGE_${path
    .split('.')
    .map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('_')}`;
}

/** The environment variable of every key, with the key's path. */
export function environmentKeys(): Record<string, string> {
  return Object.fromEntries(envPaths.map(([path]) => [envNameOf(path), path]));
}

// A value that does not fit its kind is passed on as text, so the schema's error names the key.
function coerce(name: string, raw: string, kind: EnvKind): unknown {
  if (kind === 'number') return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  if (kind === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (kind === 'json') {
    try {
      return JSON.parse(raw);
    } catch (err) {
      throw new ConfigError([`${name}: not valid JSON (${(err as Error).message})`]);
    }
  }
  return raw;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Record<string, unknown>;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.BRIDGE_CONFIG;
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`config file ${file}: ${(err as Error).message}`]);
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ConfigError([`config file ${file}: not valid JSON (${(err as Error).message})`]);
    }
  }
  // `"simulator": true` in a file, before BRIDGE_GRAPH_SIMULATOR_* variables add keys beside it.
  const graphRaw = raw.graph as Record<string, unknown> | undefined;
  if (graphRaw && typeof graphRaw === 'object' && typeof graphRaw.simulator === 'boolean') graphRaw.simulator = { enabled: graphRaw.simulator };
  for (const [path, kind] of envPaths) {
    const name = envNameOf(path);
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path.split('.'), coerce(name, value, kind));
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) setPath(raw, key.split('.'), value);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return deepFreeze(parsed.data);
}

// True when the bridge has tenant credentials; otherwise it runs against the embedded simulator.
export function usesSimulator(config: Config): boolean {
  if (config.graph.simulator.enabled !== undefined) return config.graph.simulator.enabled;
  return !(config.graph.tenantId && config.graph.clientId && (config.graph.clientSecret || config.graph.certificatePath));
}
