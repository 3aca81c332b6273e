// `sources add|rotate|revoke-old|list` and `users transfer`: operator commands on the store. A new
// token is printed once and only its sha256 is kept; a running bridge reads the hashes from the store.
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../config';
import { openStore, SOURCE_TOKENS_RECHECK_MS } from '../store';
import type { CliIo } from './io';

function open(configFile: string | undefined, io: CliIo) {
  const config = loadConfig({ file: configFile, env: io.env });
  // Only a serving bridge records a mode change.
  return { config, store: openStore(config.database, { mode: config.mode, sources: config.sources, recordMode: false, secretsKey: config.secretsKey }) };
}

/** A running bridge looks for changed tokens at most every SOURCE_TOKENS_RECHECK_MS: after waiting twice that, "at once" holds. */
const inForce = () => sleep(2 * SOURCE_TOKENS_RECHECK_MS);

function mint(): { token: string; sha256: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, sha256: createHash('sha256').update(token).digest('hex') };
}

export async function add(configFile: string | undefined, id: string, opts: { directory: string[] }, io: CliIo): Promise<number> {
  const { config, store } = open(configFile, io);
  try {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new Error('a source id is 1 to 64 letters, digits, dots, dashes or underscores');
    if (config.sources.some((s) => s.id === id)) throw new Error(`source ${id} is defined in the config file; change its token there`);
    const { token, sha256 } = mint();
    const directories = opts.directory.map((d) => ({ id: d, type: 'ad' as const, jit: false }));
    if (!store.sourceTokens.add(id, sha256, directories)) throw new Error(`source ${id} exists; use "sources rotate ${id}"`);
    await inForce();
    io.stdout.write(`source ${id} added; a running bridge accepts its token at once\ntoken: ${token}\n`);
    return 0;
  } finally {
    store.close();
  }
}

/** "86400" -> 86400 s; the config's tokenGraceSeconds when absent. */
function graceSeconds(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`--grace takes whole seconds, not "${raw}"`);
  return Number(raw);
}

const until = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function rotate(configFile: string | undefined, id: string, opts: { grace?: string; revokeOld?: boolean }, io: CliIo): Promise<number> {
  const { config, store } = open(configFile, io);
  try {
    if (config.sources.some((s) => s.id === id)) throw new Error(`source ${id} is defined in the config file; change its token there`);
    const graceMs = opts.revokeOld ? 0 : graceSeconds(opts.grace, config.tokenGraceSeconds) * 1000;
    const { token, sha256 } = mint();
    if (!store.sourceTokens.rotate(id, sha256, { graceMs })) throw new Error(`no source ${id} was added with "sources add"`);
    await inForce();
    const old = store.sourceTokens.get(id)?.previousValidUntil;
    const tail = old ? `the old one keeps working until ${until(old)}; end that now with "sources revoke-old ${id}"` : 'the old one no longer works';
    io.stdout.write(`source ${id} has a new token, accepted by a running bridge at once; ${tail}\ntoken: ${token}\n`);
    return 0;
  } finally {
    store.close();
  }
}

export async function revokeOld(configFile: string | undefined, id: string, io: CliIo): Promise<number> {
  const { store } = open(configFile, io);
  try {
    if (!store.sourceTokens.get(id)) throw new Error(`no source ${id} was added with "sources add"`);
    const ended = store.sourceTokens.revokeOld(id);
    if (ended) await inForce();
    io.stdout.write(ended ? `the previous token of source ${id} no longer works\n` : `source ${id} has no previous token in its grace period\n`);
    return 0;
  } finally {
    store.close();
  }
}

/** Every source: from the config file, added with `sources add`, and any other that owns resources. */
export async function list(configFile: string | undefined, io: CliIo): Promise<number> {
  const { config, store } = open(configFile, io);
  try {
    const counts = new Map(store.admin.sources().map((s) => [s.id, s]));
    const managed = store.sourceTokens.list();
    const rows: { id: string; from: string; directories: { id: string; jit?: boolean }[] }[] = [
      ...config.sources.map((s) => ({ id: s.id, from: 'config', directories: s.directories })),
      ...managed
        .filter((m) => !config.sources.some((s) => s.id === m.id))
        .map((s) => ({
          id: s.id,
          from: s.previousValidUntil ? `sources add (previous token valid until ${until(s.previousValidUntil)})` : 'sources add',
          directories: s.directories,
        })),
    ];
    const shown = new Set(rows.map((r) => r.id));
    for (const c of counts.values()) {
      if (shown.has(c.id) || (c.users === 0 && c.groups === 0)) continue;
      rows.push({ id: c.id, from: 'not configured (no token)', directories: c.directories as { id: string; jit?: boolean }[] });
    }
    for (const r of rows) {
      const c = counts.get(r.id);
      const dirs = r.directories.map((d) => `${d.id}${d.jit ? ' (jit)' : ''}`).join(', ') || '-';
      io.stdout.write(`${r.id}\t${r.from}\tusers=${c?.users ?? 0}\tgroups=${c?.groups ?? 0}\tdirectories=${dirs}\n`);
    }
    if (!rows.length) io.stdout.write('no sources: the first `serve` on this data directory makes a "default" source and prints its token\n');
    return 0;
  } finally {
    store.close();
  }
}

export async function transferUser(configFile: string | undefined, userId: string, toSource: string, io: CliIo): Promise<number> {
  const { store } = open(configFile, io);
  try {
    const { from, to } = store.ownership.transferUser(userId, toSource);
    io.stdout.write(from === to ? `user ${userId} already belongs to ${to}\n` : `user ${userId} moved from ${from} to ${to}\n`);
    return 0;
  } finally {
    store.close();
  }
}
