import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseGraphSimArgs, runGraphSim } from '../../src/simulator/cli';
import { graphClientFor } from './graph-client';
import { FIXTURE } from './setup';

test('graph-sim serves the seeded tenant and prints how to reach it', async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c) => (text += c));
  const sim = await runGraphSim(['--port', '0', '--seed', FIXTURE, '--time-scale', '10', '--no-throttling'], out);
  try {
    expect(text).toContain(`Graph simulator listening on ${sim.url}`);
    expect(text).toContain(`token endpoint:   ${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`);
    expect(text).toContain(`client id:        ${sim.clientId}`);
    expect(text).toContain(`client secret:    ${sim.clientSecret}`);
    expect(text).toContain(`CA file:          ${sim.caFile}`);
    expect(text).toContain(`inspection token: ${sim.inspectionToken}  (send Authorization: Bearer <token> to /_sim)`);
    expect(sim.throttle.enabled).toBe(false);
    const users = await graphClientFor(sim).api('/users').select('userPrincipalName').get();
    expect(users.value.map((u: { userPrincipalName: string }) => u.userPrincipalName)).toEqual(['megan.bowen@contoso.com', 'alex.wilber@contoso.com']);
  } finally {
    await sim.close();
  }
});

test('graph-sim prints the bulkUpload endpoint of each inbound provisioning app of the seed', async () => {
  const seed = join(mkdtempSync(join(tmpdir(), 'graph-sim-cli-')), 'seed.json');
  const jobId = 'API2AD.0a1b2c3d4e5f40718293a4b5c6d7e8f9.1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
  const inboundApps = [{ servicePrincipalId: '8e7d6c5b-4a39-4827-9615-0f1e2d3c4b5a', jobId, target: 'ad' }];
  writeFileSync(seed, JSON.stringify({ ...JSON.parse(readFileSync(FIXTURE, 'utf8')), inboundApps }));
  const out = new PassThrough();
  let text = '';
  out.on('data', (c) => (text += c));
  const sim = await runGraphSim(['--port', '0', '--seed', seed, '--no-throttling'], out);
  try {
    expect(text).toContain(
      `  inbound app:      POST ${sim.url}/v1.0/servicePrincipals/8e7d6c5b-4a39-4827-9615-0f1e2d3c4b5a/synchronization/jobs/${jobId}/bulkUpload (ad)\n`,
    );
  } finally {
    await sim.close();
  }
});

test('graph-sim arguments are checked', () => {
  expect(parseGraphSimArgs(['--port', '8443'])).toEqual({ port: 8443, timeScale: 1, throttling: true, seed: undefined, dataDir: undefined });
  expect(() => parseGraphSimArgs(['--port', 'x'])).toThrow('--port: expected an integer from 0 to 65535, got "x"');
  expect(() => parseGraphSimArgs(['--time-scale', '0'])).toThrow('--time-scale: expected a positive number, got "0"');
  expect(() => parseGraphSimArgs(['--bogus'])).toThrow(/bogus/);
});
