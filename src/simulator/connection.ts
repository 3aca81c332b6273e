// How one-shot commands reach the Graph simulator embedded in a running `serve`: the serving bridge
// writes its simulator's connection details (URL, token endpoint, tenant and client credentials, CA
// file, inspection token) to `simulator-connection.json` in the data directory with mode 0600, and removes it on exit.
// A command finds the file, checks that the process that wrote it still runs, and talks to that
// simulator; without one it says so instead of starting a throwaway tenant of its own.
import { chmodSync, readFileSync, rmSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export const CONNECTION_FILE = 'simulator-connection.json';
export const STATE_FILE = 'simulator.json';

export interface SimulatorConnection {
  pid: number;
  baseUrl: string;
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  caFile: string;
  /** The bearer token of the simulator's inspection API under /_sim (not part of the Graph config). */
  inspectionToken?: string;
}

export function writeSimulatorConnection(dataDir: string, conn: SimulatorConnection): void {
  const file = join(dataDir, CONNECTION_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(conn), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Removes the file if this process wrote it. */
export function removeSimulatorConnection(dataDir: string): void {
  const found = readRaw(dataDir);
  if (found?.pid === process.pid) rmSync(join(dataDir, CONNECTION_FILE), { force: true });
}

function readRaw(dataDir: string): SimulatorConnection | null {
  try {
    return JSON.parse(readFileSync(join(dataDir, CONNECTION_FILE), 'utf8')) as SimulatorConnection;
  } catch {
    return null;
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running bridge's simulator, or null when no serving bridge left one (or it is gone). */
export function readSimulatorConnection(dataDir: string): SimulatorConnection | null {
  const conn = readRaw(dataDir);
  if (!conn || typeof conn.pid !== 'number' || !running(conn.pid) || !existsSync(conn.caFile)) return null;
  return conn;
}
