// The tenant on disk: the embedded simulator of a serving bridge keeps its directory in a file
// (e.g. data/simulator.json), written atomically (temporary file, then rename) shortly after a
// change and on close, and read back at start, so a restart finds the tenant it left. The file
// holds the tenant's client secret: it is written with mode 0600. What is not kept: the recycle
// bin (directory/deletedItems), the request log, faults and throttle buckets.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Directory } from './directory';
import type { SeedObject } from './types';

export interface SavedTenant {
  version: 1;
  savedAt: string;
  /** The change sequence, so delta links stay valid across a restart. */
  seq: number;
  /** The tenant as a seed: everything Directory is built from. */
  seed: SeedObject;
}

/** The saved tenant at `file`, or null when there is none. A file that cannot be read is an error (never silently a new tenant). */
export function readSavedTenant(file: string): SavedTenant | null {
  if (!existsSync(file)) return null;
  let saved: SavedTenant;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as SavedTenant;
  } catch (err) {
    throw new Error(`graph simulator state ${file}: ${(err as Error).message}; move it away to start with a new tenant`, { cause: err });
  }
  if (saved?.version !== 1 || typeof saved.seed !== 'object')
    throw new Error(`graph simulator state ${file}: not a saved tenant (version 1); move it away to start with a new tenant`);
  return saved;
}

/**
 * The directory as a seed a new Directory rebuilds it from (ids, passwords, managers, members, seats).
 * It shares nested values with the live directory: serialise it at once (writeSavedTenant does), no copy first.
 */
function tenantAsSeed(dir: Directory, tenant: NonNullable<SeedObject['tenant']>): SeedObject {
  const { verifiedDomains: _derived, ...organization } = dir.organization;
  return {
    tenant: { ...tenant, id: dir.tenantId },
    domains: dir.domains,
    skus: [...dir.skus.values()].map(({ consumed: _consumed, ...sku }) => sku),
    users: [...dir.users.values()].map((u) => ({
      ...u.props,
      ...(u.password !== undefined ? { password: u.password } : {}),
      ...(u.managerId ? { manager: u.managerId } : {}),
    })),
    groups: [...dir.groups.values()].map((g) => ({ ...g.props, members: [...g.members] })),
    devices: [...dir.devices.values()],
    organization,
    ...dir.inbound.toSeed(),
  };
}

export function writeSavedTenant(file: string, dir: Directory, tenant: NonNullable<SeedObject['tenant']>): void {
  const saved: SavedTenant = { version: 1, savedAt: new Date().toISOString(), seq: dir.currentSeq, seed: tenantAsSeed(dir, tenant) };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(saved), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
