// `sources add|rotate|list` and `users transfer`: operator commands on the store. A new
// token is printed once and only its sha256 is kept.
import { createHash, randomBytes } from 'node:crypto';
import { loadConfig } from '../config';
import { openStore } from '../store';

function open(configFile?: string) {
  const config = loadConfig({ file: configFile });
  return { config, store: openStore(config.database, { mode: config.mode, sources: config.sources, confirmModeChange: config.confirmModeChange, secretsKey: config.secretsKey }) };
}

function mint(): { token: string; sha256: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, sha256: createHash('sha256').update(token).digest('hex') };
}

export async function add(configFile: string | undefined, id: string, opts: { directory: string[] }): Promise<number> {
  const { config, store } = open(configFile);
  try {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new Error('a source id is 1 to 64 letters, digits, dots, dashes or underscores');
    if (config.sources.some((s) => s.id === id)) throw new Error(`source ${id} is defined in the config file; change its token there`);
    const { token, sha256 } = mint();
    const directories = opts.directory.map((d) => ({ id: d, type: 'ad' as const, jit: false }));
    if (!store.sourceTokens.add(id, sha256, directories)) throw new Error(`source ${id} exists; use "sources rotate ${id}"`);
    process.stdout.write(`source ${id} added; restart the bridge to accept it\ntoken: ${token}\n`);
    return 0;
  } finally {
    store.close();
  }
}

export async function rotate(configFile: string | undefined, id: string): Promise<number> {
  const { config, store } = open(configFile);
  try {
    if (config.sources.some((s) => s.id === id)) throw new Error(`source ${id} is defined in the config file; change its token there`);
    const { token, sha256 } = mint();
    if (!store.sourceTokens.rotate(id, sha256)) throw new Error(`no source ${id} was added with "sources add"`);
    process.stdout.write(`source ${id} has a new token; the old one stops working when the bridge restarts\ntoken: ${token}\n`);
    return 0;
  } finally {
    store.close();
  }
}

export async function list(configFile?: string): Promise<number> {
  const { config, store } = open(configFile);
  try {
    const counts = new Map(store.admin.sources().map((s) => [s.id, s]));
    const rows = [
      ...config.sources.map((s) => ({ id: s.id, from: 'config', directories: s.directories })),
      ...store.sourceTokens.list().map((s) => ({ id: s.id, from: 'sources add', directories: s.directories })),
    ];
    for (const r of rows) {
      const c = counts.get(r.id);
      const dirs = r.directories.map((d) => `${d.id}${d.jit ? ' (jit)' : ''}`).join(', ') || '-';
      process.stdout.write(`${r.id}\t${r.from}\tusers=${c?.users ?? 0}\tgroups=${c?.groups ?? 0}\tdirectories=${dirs}\n`);
    }
    if (!rows.length) process.stdout.write('no sources: `serve` makes a "default" source with a fresh token\n');
    return 0;
  } finally {
    store.close();
  }
}

export async function transferUser(configFile: string | undefined, userId: string, toSource: string): Promise<number> {
  const { store } = open(configFile);
  try {
    const { from, to } = store.ownership.transferUser(userId, toSource);
    process.stdout.write(from === to ? `user ${userId} already belongs to ${to}\n` : `user ${userId} moved from ${from} to ${to}\n`);
    return 0;
  } finally {
    store.close();
  }
}
