// Starts one simulator per test file, seeded from test/fixtures/simulator/tenant.json, with a
// Graph client built exactly as the bridge builds it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator';
import { graphClientFor } from './graph-client';

export const FIXTURE = join(__dirname, '..', 'fixtures', 'simulator', 'tenant.json');
export const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
export const EXCHANGE = '4b9405b0-7788-4568-add1-99614e613b69';
export const MEGAN = '0b6c2d1e-4a5f-4c3b-9e8d-7f6a5b4c3d2e';
export const ALEX = '5e2a7c4d-1b3f-4e6a-8c9d-0a1b2c3d4e5f';
export const SALES = '7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a';

export interface Harness {
  sim: RunningSimulator;
  client: Client;
}

/** Registers beforeAll/afterAll/beforeEach for a file; the returned object is filled in beforeAll. */
export function useSimulator(options: SimulatorOptions = {}): Harness {
  const h = {} as Harness;
  beforeAll(async () => {
    h.sim = await startSimulator({ seed: FIXTURE, throttling: false, dataDir: mkdtempSync(join(tmpdir(), 'graph-sim-test-')), ...options });
    h.client = graphClientFor(h.sim);
  });
  afterAll(() => h.sim?.close());
  beforeEach(() => h.sim.reset());
  return h;
}

export const newUser = (upn: string, extra: Record<string, unknown> = {}) => ({
  accountEnabled: true,
  displayName: 'Adele Vance',
  mailNickname: 'adele',
  userPrincipalName: upn,
  passwordProfile: { forceChangePasswordNextSignIn: true, password: 'xWwvJ]6NMw+bWH-d' },
  ...extra,
});
