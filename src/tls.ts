// HTTPS for SCIM and admin (config tls.certFile / tls.keyFile; Okta and Entra provisioning need an
// HTTPS endpoint). The certificate and key are read at start, and again when either file changes
// (polled, so a renewal that replaces the file by rename is seen) or on SIGHUP; a pair that does not
// load is logged and the one in use is kept. README: running behind a reverse proxy instead.
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Server } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Logger } from './log';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/** Reads the pair and checks that it loads (a key that does not match the certificate throws). */
export function loadTlsPair(files: TlsFiles): TlsPair {
  let pair: TlsPair;
  try {
    pair = { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
  } catch (err) {
    throw new Error(`tls: ${(err as Error).message}`, { cause: err });
  }
  try {
    createSecureContext(pair);
  } catch (err) {
    throw new Error(`tls: ${files.certFile} and ${files.keyFile} do not load as a certificate and its key: ${(err as Error).message}`, { cause: err });
  }
  return pair;
}

export interface TlsReloader {
  /** Loads the files again and serves them to new connections; false (and logged) when they do not load. */
  reload(reason: string): boolean;
  close(): void;
}

/** Watches the pair and SIGHUP; new TLS connections get the reloaded certificate. */
export function watchTls(server: Server, files: TlsFiles, logger: Logger, intervalMs = 2000): TlsReloader {
  const log = logger.child({ component: 'tls' });
  const reload = (reason: string): boolean => {
    try {
      const pair = loadTlsPair(files);
      server.setSecureContext(pair);
      log.info({ reason, certFile: files.certFile }, 'TLS certificate reloaded');
      return true;
    } catch (err) {
      log.error({ reason, err: (err as Error).message }, 'TLS certificate not reloaded; the current one stays in use');
      return false;
    }
  };
  const onChange = (now: Stats, before: Stats) => {
    if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) reload('file changed');
  };
  const onHup = () => reload('SIGHUP');
  for (const f of [files.certFile, files.keyFile]) watchFile(f, { interval: intervalMs, persistent: false }, onChange);
  process.on('SIGHUP', onHup);
  return {
    reload,
    close() {
      for (const f of [files.certFile, files.keyFile]) unwatchFile(f, onChange);
      process.off('SIGHUP', onHup);
    },
  };
}
