// Secrets at rest: pending passwords are stored encrypted with AES-256-GCM (node:crypto), bound to
// their row (type and id as associated data), so the database file, its WAL and a backup hold no
// password in clear. The key comes from config secretsKey (BRIDGE_SECRETS_KEY), else from the file
// secrets.key next to the database, generated once with mode 0600; an in-memory database gets a key
// that lives as long as the process. docs/security.md.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PREFIX = 'v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretBox {
  seal(plain: string, context: string): string;
  open(sealed: string, context: string): string;
  isSealed(value: string): boolean;
  /** Where the key came from: 'config', a file path, or 'memory'. */
  keySource: string;
}

/** A 32-byte key from 64 hex digits or base64 (standard or URL-safe) of 32 bytes; throws otherwise. */
export function parseSecretsKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(t) && !/^[A-Za-z0-9+/_-]{43}=?$/.test(t))) {
    throw new Error('secretsKey: expected 32 bytes as 64 hex digits or base64 (e.g. openssl rand -base64 32)');
  }
  return key;
}

export const SECRETS_KEY_FILE = 'secrets.key';

/** The key file next to the database: read, or created once (mode 0600) when absent. */
function keyFromFile(databasePath: string): { key: Buffer; path: string } {
  const path = join(dirname(databasePath), SECRETS_KEY_FILE);
  // Written whole under a temporary name, then linked into place: a crash never leaves a partial key,
  // and of two processes starting at once the first link wins and both read the same key.
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`secrets key file ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  // The umask may have widened nothing, but a copied or restored file may be readable by others.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  try {
    return { key: parseSecretsKey(readFileSync(path, 'utf8')), path };
  } catch (err) {
    throw new Error(`secrets key file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export function createSecretBox(databasePath: string, configuredKey?: string): SecretBox {
  let key: Buffer;
  let keySource: string;
  if (configuredKey) {
    key = parseSecretsKey(configuredKey);
    keySource = 'config';
  } else if (databasePath === ':memory:' || databasePath === '' || databasePath.startsWith('file:')) {
    key = randomBytes(32);
    keySource = 'memory';
  } else {
    const found = keyFromFile(databasePath);
    key = found.key;
    keySource = found.path;
  }
  return {
    keySource,
    isSealed: (value) => value.startsWith(PREFIX),
    seal(plain, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    open(sealed, context) {
      if (!sealed.startsWith(PREFIX)) throw new Error('not a sealed secret');
      const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}
