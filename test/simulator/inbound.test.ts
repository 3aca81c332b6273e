// API-driven inbound provisioning: bulkUpload validation, limits and 202; processing on the simulator
// clock with its provisioning log; job states; the AD target; the control API; persistence.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request as undiciRequest } from 'undici';
import { startSimulator, type RunningSimulator } from '../../src/simulator';
import { DEFAULT_ROLES } from '../../src/simulator/types';
import { innerError, raw, tokenFor, type RawResponse } from './graph-client';
import { ALEX, FIXTURE, MEGAN } from './setup';

const SP = '3f1e2d3c-4b5a-4968-8778-695a4b3c2d1e';
const JOB = 'API2AAD.0a1b2c3d4e5f40718293a4b5c6d7e8f9.5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e';
const AD_SP = '8e7d6c5b-4a39-4827-9615-0f1e2d3c4b5a';
const AD_JOB = 'API2AD.0a1b2c3d4e5f40718293a4b5c6d7e8f9.1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const INBOUND_ROLES = [...DEFAULT_ROLES, 'SynchronizationData-User.Upload', 'ProvisioningLog.Read.All', 'Synchronization.Read.All'];
const T0 = Date.parse('2026-12-01T09:00:00Z');
const MINUTE = 60_000;

let clock = T0;
let sim: RunningSimulator;
let agent: Agent;
beforeAll(async () => {
  sim = await startSimulator({ seed: FIXTURE, throttling: false, now: () => clock, dataDir: mkdtempSync(join(tmpdir(), 'graph-sim-test-')) });
  agent = new Agent({ connect: { ca: sim.caPem } });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  clock = T0;
  sim.grant(INBOUND_ROLES);
});

async function post(path: string, body: unknown, contentType = 'application/scim+json', token?: string): Promise<RawResponse> {
  const res = await undiciRequest(`${sim.url}/v1.0${path}`, {
    method: 'POST',
    headers: { 'content-type': contentType, authorization: `Bearer ${token ?? (await tokenFor(sim))}` },
    body: JSON.stringify(body),
    dispatcher: agent,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const bulkPath = (sp = SP, job = JOB) => `/servicePrincipals/${sp}/synchronization/jobs/${job}/bulkUpload`;
const user = (externalId: string, extra: Record<string, unknown> = {}) => ({
  schemas: [CORE, ENTERPRISE],
  externalId,
  userName: `${externalId.toLowerCase()}@contoso.com`,
  displayName: `User ${externalId}`,
  name: { givenName: 'User', familyName: externalId },
  active: true,
  ...extra,
});
const bulk = (...records: Record<string, unknown>[]) => ({
  schemas: [BULK],
  Operations: records.map((data, i) => ({ method: 'POST', bulkId: `b${i + 1}`, path: '/Users', data })),
});
// Processed five minutes after the 202 and logged at once, unless a test says otherwise.
const QUICK_LOG = { processingDelayMs: 5 * MINUTE, logDelayMs: 0 };
const entra = (extra: Record<string, unknown> = {}) => sim.inbound.configure({ servicePrincipalId: SP, jobId: JOB, target: 'entra', ...QUICK_LOG, ...extra });
const logs = async (query = '') => (await raw(sim, 'GET', `/v1.0/auditLogs/provisioning${query}`)).body;
const usersWith = (employeeId: string) => sim.state.snapshot().users.filter((u) => u.employeeId === employeeId);

const steps = (externalId: string, action: 'create' | 'update', where = 'Microsoft Entra ID') => [
  { name: 'EntryImport', provisioningStepType: 'import', status: 'success', description: `Received User '${externalId}' from API`, details: {} },
  action === 'create'
    ? {
        name: 'EntrySynchronizationAdd',
        provisioningStepType: 'matching',
        status: 'success',
        description: `User '${externalId}' will be created in ${where} (no matching User was found in ${where})`,
        details: {},
      }
    : {
        name: 'EntrySynchronizationUpdate',
        provisioningStepType: 'matching',
        status: 'success',
        description: `User '${externalId}' will be updated in ${where} (a matching User was found by employeeId)`,
        details: {},
      },
];

describe('bulkUpload', () => {
  test('the default grant of the bridge does not reach it: 403, and the provisioning log likewise', async () => {
    entra();
    sim.grant(DEFAULT_ROLES);
    const res = await post(bulkPath(), bulk(user('E2001')));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.', innerError } });
    const list = await raw(sim, 'GET', '/v1.0/auditLogs/provisioning');
    expect(list.status).toBe(403);
    const job = await raw(sim, 'GET', `/v1.0/servicePrincipals/${SP}/synchronization/jobs/${JOB}`);
    expect(job.status).toBe(403);
    expect(sim.inbound.apps()[0].staged).toBe(0);
  });

  test('a valid request is staged: 202, empty body, Location at the provisioning log of the job', async () => {
    entra();
    const res = await post(bulkPath(), bulk(user('E2001'), user('E2002')));
    expect(res.status).toBe(202);
    expect(res.body).toBeUndefined();
    expect(res.headers['content-length']).toBe('0');
    expect(res.headers.location).toBe(`${sim.url}/v1.0/auditLogs/provisioning/?$filter=jobid%20eq%20'${encodeURIComponent(JOB)}'`);
    expect(sim.inbound.apps()).toEqual([expect.objectContaining({ servicePrincipalId: SP, jobId: JOB, staged: 2, callsLast24h: 1 })]);
    const logged = sim.requests.list({ pathPrefix: '/servicePrincipals' });
    expect(logged).toEqual([expect.objectContaining({ method: 'POST', url: bulkPath(), status: 202, requestBody: bulk(user('E2001'), user('E2002')) })]);
    // Staged only: nothing in the log and no user until the service processes the records.
    expect((await logs()).value).toEqual([]);
    expect(usersWith('E2001')).toEqual([]);
  });

  test.each([
    ['a Content-Type other than application/scim+json', bulk(user('E2001')), 'application/json'],
    ['more than 50 operations', bulk(...Array.from({ length: 51 }, (_, i) => user(`E${3000 + i}`))), undefined],
    ['no operations', bulk(), undefined],
    ['a method other than POST', { schemas: [BULK], Operations: [{ method: 'DELETE', bulkId: 'b1', path: '/Users/E2001' }] }, undefined],
    ['a path other than /Users', { schemas: [BULK], Operations: [{ method: 'POST', bulkId: 'b1', path: '/Groups', data: user('E2001') }] }, undefined],
    ['no bulkId', { schemas: [BULK], Operations: [{ method: 'POST', path: '/Users', data: user('E2001') }] }, undefined],
    ['no BulkRequest schema', { schemas: [CORE], Operations: bulk(user('E2001')).Operations }, undefined],
    ['data without the core User schema', bulk({ ...user('E2001'), schemas: [ENTERPRISE] }), undefined],
    ['an extension not listed in data.schemas', bulk({ ...user('E2001'), 'urn:contoso:employee': { JobCode: 'AB-1' } }), undefined],
  ])('400 Invalid Data Format for %s, nothing staged', async (_what, body, contentType) => {
    entra();
    const res = await post(bulkPath(), body, contentType);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'BadRequest', message: 'Invalid Data Format', innerError } });
    expect(sim.inbound.apps()[0].staged).toBe(0);
  });

  test('a body that is not JSON is 400 Invalid Data Format too', async () => {
    entra();
    const res = await undiciRequest(`${sim.url}/v1.0${bulkPath()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/scim+json', authorization: `Bearer ${await tokenFor(sim)}` },
      body: '{"schemas": [',
      dispatcher: agent,
    });
    expect(res.statusCode).toBe(400);
    expect(await res.body.json()).toEqual({ error: { code: 'BadRequest', message: 'Invalid Data Format', innerError } });
  });

  test('50 operations with a custom extension listed in data.schemas are accepted', async () => {
    entra();
    const records = Array.from({ length: 50 }, (_, i) => ({
      ...user(`E${3000 + i}`),
      schemas: [CORE, ENTERPRISE, 'urn:contoso:employee'],
      'urn:contoso:employee': { JobCode: 'AB-1' },
    }));
    expect((await post(bulkPath(), bulk(...records))).status).toBe(202);
    expect(sim.inbound.apps()[0].staged).toBe(50);
  });

  test('a full ingestion queue refuses the whole request with 500, as Microsoft documents', async () => {
    entra({ stagingCapacity: 3, state: 'Paused' });
    expect((await post(bulkPath(), bulk(user('E2001'), user('E2002')))).status).toBe(202);
    const full = await post(bulkPath(), bulk(user('E2003'), user('E2004')));
    expect(full.status).toBe(500);
    expect(full.body).toEqual({
      error: {
        code: 'generalException',
        message:
          'The bucket that stores the ingested data is full, please wait for the synchronization service to process the ingested data and retry this request.',
        innerError,
      },
    });
    expect(sim.inbound.apps()[0].staged).toBe(2);
  });

  test('an unknown job is 404', async () => {
    entra();
    const res = await post(bulkPath(SP, 'API2AAD.nope'), bulk(user('E2001')));
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: {
        code: 'Request_ResourceNotFound',
        message: "Resource 'API2AAD.nope' does not exist or one of its queried reference-property objects are not present.",
        innerError,
      },
    });
  });

  test('40 calls in any 5 seconds, then 429 with Retry-After until the window frees a call', async () => {
    entra();
    const token = await tokenFor(sim);
    for (let i = 0; i < 40; i++) {
      clock = T0 + i * 100;
      expect((await post(bulkPath(), bulk(user(`E${4000 + i}`)), undefined, token)).status).toBe(202);
    }
    clock = T0 + 4000;
    const refused = await post(bulkPath(), bulk(user('E4999')), undefined, token);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toEqual({ error: { code: 'TooManyRequests', message: 'Too many requests. Retry after 1 seconds.', innerError } });
    // The first call leaves the window at T0 + 5 s.
    clock = T0 + 5000;
    expect((await post(bulkPath(), bulk(user('E4999')), undefined, token)).status).toBe(202);
    expect(sim.inbound.apps()[0].staged).toBe(41);
  });

  test('the daily quota: past it, 429 until the oldest call is 24 hours old', async () => {
    entra({ dailyQuota: 3 });
    const token = await tokenFor(sim);
    for (let i = 0; i < 3; i++) {
      clock = T0 + i * MINUTE;
      expect((await post(bulkPath(), bulk(user(`E${4000 + i}`)), undefined, token)).status).toBe(202);
    }
    clock = T0 + 10 * MINUTE;
    const refused = await post(bulkPath(), bulk(user('E4999')), undefined, token);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe(String(24 * 3600 - 600));
    clock = T0 + 24 * 3600 * 1000 + 1;
    expect((await post(bulkPath(), bulk(user('E4999')), undefined, token)).status).toBe(202);
  });
});

describe('processing', () => {
  test('records are processed after the delay, at the modelled rate, each leaving its log entry', async () => {
    entra({ recordsPerMinute: 2 });
    expect((await post(bulkPath(), bulk(user('E2001'), user('E2002'), user('E2003')))).status).toBe(202);
    clock = T0 + 5 * MINUTE - 1;
    expect((await logs()).value).toEqual([]);
    clock = T0 + 5 * MINUTE;
    // A minute's worth of the budget: two records now, the third a half minute later.
    expect((await logs()).value.map((e: any) => e.sourceIdentity.id)).toEqual(['E2002', 'E2001']);
    clock = T0 + 5 * MINUTE + 30_000;
    const body = await logs('?$orderby=activityDateTime asc');
    expect(body.value.map((e: any) => [e.sourceIdentity.id, e.activityDateTime])).toEqual([
      ['E2001', '2026-12-01T09:05:00Z'],
      ['E2002', '2026-12-01T09:05:00Z'],
      ['E2003', '2026-12-01T09:05:30Z'],
    ]);
    const [created] = usersWith('E2001');
    expect(body.value[0]).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      activityDateTime: '2026-12-01T09:05:00Z',
      tenantId: sim.tenantId,
      jobId: JOB,
      cycleId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      changeId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      provisioningAction: 'create',
      durationInMilliseconds: 30000,
      initiatedBy: { id: '', displayName: 'Azure AD Provisioning Service', initiatorType: 'system' },
      servicePrincipal: { id: SP, displayName: 'API-driven provisioning to Microsoft Entra ID' },
      sourceSystem: { id: SP, displayName: 'API', details: {} },
      targetSystem: { id: sim.tenantId, displayName: 'Microsoft Entra ID', details: {} },
      sourceIdentity: { id: 'E2001', displayName: 'User E2001', identityType: 'User', details: {} },
      targetIdentity: { id: created.id, displayName: 'User E2001', identityType: 'User', details: {} },
      modifiedProperties: [
        { displayName: 'accountEnabled', oldValue: null, newValue: 'true' },
        { displayName: 'displayName', oldValue: null, newValue: 'User E2001' },
        { displayName: 'employeeId', oldValue: null, newValue: 'E2001' },
        { displayName: 'givenName', oldValue: null, newValue: 'User' },
        { displayName: 'mailNickname', oldValue: null, newValue: 'e2001' },
        { displayName: 'surname', oldValue: null, newValue: 'E2001' },
        { displayName: 'userPrincipalName', oldValue: null, newValue: 'e2001@contoso.com' },
      ],
      provisioningSteps: [
        ...steps('E2001', 'create'),
        {
          name: 'EntryExportAdd',
          provisioningStepType: 'export',
          status: 'success',
          description: "User 'E2001' was created in Microsoft Entra ID",
          details: {},
        },
      ],
      provisioningStatusInfo: { status: 'success', errorInformation: null },
    });
    expect(body.value[0].cycleId).toBe(body.value[1].cycleId);
    expect(body.value[2].cycleId).not.toBe(body.value[0].cycleId);
    expect(created).toMatchObject({
      userPrincipalName: 'e2001@contoso.com',
      displayName: 'User E2001',
      givenName: 'User',
      surname: 'E2001',
      mailNickname: 'e2001',
      accountEnabled: true,
      employeeId: 'E2001',
      onPremisesSyncEnabled: null,
      hasPassword: true,
    });
    expect(created).not.toHaveProperty('onPremisesImmutableId');
  });

  test('the service works while nobody looks: a first look after three minutes finds three minutes of processing, each at its own time', async () => {
    entra({ processingDelayMs: 0, logDelayMs: 0, recordsPerMinute: 100 });
    for (let call = 0; call < 6; call++)
      expect((await post(bulkPath(), bulk(...Array.from({ length: 50 }, (_, i) => user(`E${3000 + call * 50 + i}`))))).status).toBe(202);
    clock = T0 + 3 * MINUTE;
    const body = await logs('?$orderby=activityDateTime asc&$top=1000');
    // A minute's budget at once (100), then one record every 600 ms: the 300th at 09:02:00.
    const perMinute = new Map<string, number>();
    for (const e of body.value) perMinute.set(e.activityDateTime.slice(11, 16), (perMinute.get(e.activityDateTime.slice(11, 16)) ?? 0) + 1);
    expect([...perMinute]).toEqual([
      ['09:00', 199],
      ['09:01', 100],
      ['09:02', 1],
    ]);
    expect(body.value.map((e: any) => e.sourceIdentity.id)).toEqual(Array.from({ length: 300 }, (_, i) => `E${3000 + i}`));
    expect(body.value[299]).toMatchObject({ activityDateTime: '2026-12-01T09:02:00Z', provisioningAction: 'create' });
    expect(usersWith('E3299')).toEqual([expect.objectContaining({ createdDateTime: '2026-12-01T09:02:00Z', employeeId: 'E3299' })]);
    expect(sim.inbound.apps()[0]).toMatchObject({ staged: 0 });
  });

  test('the log entry is written minutes after the change it reports, with the time of the change', async () => {
    entra({ processingDelayMs: 0, logDelayMs: 5 * MINUTE, logDelayJitterMs: 0 });
    await post(bulkPath(), bulk(user('E2001')));
    clock = T0 + 1000;
    // Processed: the user is in the directory, and the log has nothing yet.
    expect((await logs()).value).toEqual([]);
    expect(usersWith('E2001')).toHaveLength(1);
    // Processed when it was due (at its 202), not when someone first looked: readable five minutes after that.
    clock = T0 + 5 * MINUTE - 1;
    expect((await logs()).value).toEqual([]);
    clock = T0 + 5 * MINUTE;
    const [entry] = (await logs()).value;
    expect(entry).toMatchObject({ activityDateTime: '2026-12-01T09:00:00Z', provisioningAction: 'create', sourceIdentity: { id: 'E2001' } });
    // A follower that only asks for entries newer than its last look misses it.
    expect((await logs(`?$filter=${encodeURIComponent('activityDateTime ge 2026-12-01T09:05:00Z')}`)).value).toEqual([]);
  });

  test('with jitter, entries become readable out of the order they happened in', async () => {
    entra({ processingDelayMs: 0, logDelayMs: MINUTE, logDelayJitterMs: 10 * MINUTE, recordsPerMinute: 1000 });
    await post(bulkPath(), bulk(...Array.from({ length: 10 }, (_, i) => user(`E${2100 + i}`))));
    clock = T0 + 1;
    await logs();
    const seen: string[] = [];
    for (let m = 1; m <= 11; m++) {
      clock = T0 + 1 + m * MINUTE;
      for (const e of (await logs('?$orderby=activityDateTime asc')).value) if (!seen.includes(e.sourceIdentity.id)) seen.push(e.sourceIdentity.id);
    }
    expect([...seen].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `E${2100 + i}`));
    expect(seen).not.toEqual([...seen].sort());
  });

  test('log entries are kept 30 days', async () => {
    entra();
    await post(bulkPath(), bulk(user('E2001')));
    sim.inbound.process();
    clock = T0 + 30 * 24 * 3600 * 1000;
    expect((await logs()).value).toHaveLength(1);
    clock += 1000;
    expect((await logs()).value).toEqual([]);
  });

  test('update, disable and no change, matched by externalId -> employeeId', async () => {
    entra();
    await post(bulkPath(), bulk(user('E1002', { userName: 'alex.wilber@contoso.com', displayName: 'Alex Wilber', title: 'Buyer' })));
    await post(bulkPath(), bulk(user('E1002', { userName: 'alex.wilber@contoso.com', displayName: 'Alex Wilber', title: 'Buyer', active: false })));
    await post(bulkPath(), bulk(user('E1002', { userName: 'alex.wilber@contoso.com', displayName: 'Alex Wilber', title: 'Buyer', active: false })));
    expect(sim.inbound.process()).toEqual({ processed: 3 });
    const [update, disable, none] = (await logs('?$orderby=activityDateTime asc')).value;
    expect(update).toMatchObject({
      provisioningAction: 'update',
      targetIdentity: { id: ALEX, displayName: 'Alex Wilber', identityType: 'User', details: {} },
      modifiedProperties: [
        { displayName: 'givenName', oldValue: null, newValue: 'User' },
        { displayName: 'jobTitle', oldValue: null, newValue: 'Buyer' },
        { displayName: 'surname', oldValue: null, newValue: 'E1002' },
      ],
      provisioningStatusInfo: { status: 'success', errorInformation: null },
    });
    expect(update.provisioningSteps[1]).toEqual(steps('E1002', 'update')[1]);
    expect(disable).toMatchObject({
      provisioningAction: 'disable',
      modifiedProperties: [{ displayName: 'accountEnabled', oldValue: 'true', newValue: 'false' }],
      provisioningStatusInfo: { status: 'success', errorInformation: null },
    });
    expect(none).toMatchObject({
      provisioningAction: 'other',
      modifiedProperties: [],
      provisioningStatusInfo: {
        status: 'skipped',
        errorInformation: {
          errorCode: 'RedundantExport',
          reason: 'No changes to apply: the user in the target already has these values.',
          additionalDetails: null,
          errorCategory: 'success',
          recommendedAction: null,
        },
      },
    });
    expect(sim.state.snapshot().users.find((u) => u.id === ALEX)).toMatchObject({ jobTitle: 'Buyer', accountEnabled: false, employeeId: 'E1002' });
  });

  test('a user Graph creates between two cycles is matched by the next one', async () => {
    entra();
    await post(bulkPath(), bulk(user('E2001')));
    sim.inbound.process();
    const created = await raw(sim, 'POST', '/v1.0/users', {
      accountEnabled: true,
      displayName: 'Graph Made',
      mailNickname: 'graphmade',
      userPrincipalName: 'graph.made@contoso.com',
      employeeId: 'E2005',
      passwordProfile: { password: 'xWwvJ]6NMw+bWH-d' },
    });
    expect(created.status).toBe(201);
    await post(bulkPath(), bulk(user('E2005', { userName: 'graph.made@contoso.com', displayName: 'Graph Made', title: 'Clerk' })));
    sim.inbound.process();
    const [entry] = (await logs()).value;
    expect(entry).toMatchObject({ provisioningAction: 'update', targetIdentity: { id: created.body.id } });
    expect(usersWith('E2005')).toEqual([expect.objectContaining({ id: created.body.id, jobTitle: 'Clerk' })]);
  });

  test('an inactive record with no match is skipped; the manager is resolved by its externalId', async () => {
    entra();
    await post(bulkPath(), bulk(user('E2001', { active: false }), user('E2002', { [ENTERPRISE]: { department: 'Sales', manager: { value: 'E1002' } } })));
    sim.inbound.process();
    const [skipped, created] = (await logs('?$orderby=activityDateTime asc')).value;
    expect(skipped.provisioningStatusInfo).toEqual({
      status: 'skipped',
      errorInformation: {
        errorCode: 'NotEffectivelyEntitled',
        reason: 'The user is not active and does not exist in the target.',
        additionalDetails: null,
        errorCategory: 'success',
        recommendedAction: null,
      },
    });
    expect(usersWith('E2001')).toEqual([]);
    expect(created.modifiedProperties).toContainEqual({ displayName: 'manager', oldValue: null, newValue: ALEX });
    expect(usersWith('E2002')[0]).toMatchObject({ department: 'Sales', manager: ALEX });
  });

  test('a mail another user holds as a proxy address fails the create or update, as Graph refuses it', async () => {
    entra();
    const work = (value: string) => ({ emails: [{ type: 'work', value }] });
    await post(bulkPath(), bulk(user('E2001', work('megan.bowen@contoso.com')), user('E2002', work('e2002@contoso.com'))));
    sim.inbound.process();
    await post(bulkPath(), bulk(user('E2002', work('MEGAN.BOWEN@contoso.com'))));
    sim.inbound.process();
    const [create, created, update] = (await logs('?$orderby=activityDateTime asc')).value;
    expect(create).toMatchObject({
      provisioningAction: 'create',
      targetIdentity: { id: '' },
      provisioningStatusInfo: {
        status: 'failure',
        errorInformation: {
          errorCode: 'AzureActiveDirectoryConflict',
          reason: "Failed to create User 'E2001' in Microsoft Entra ID: Another object with the same value for property proxyAddresses already exists.",
        },
      },
    });
    expect(created.provisioningStatusInfo.status).toBe('success');
    expect(update).toMatchObject({
      provisioningAction: 'update',
      provisioningStatusInfo: {
        status: 'failure',
        errorInformation: {
          errorCode: 'AzureActiveDirectoryConflict',
          reason: 'Failed to update User in Microsoft Entra ID: Another object with the same value for property proxyAddresses already exists.',
        },
      },
    });
    expect(usersWith('E2001')).toEqual([]);
    expect(usersWith('E2002')[0]).toMatchObject({ mail: 'e2002@contoso.com', proxyAddresses: ['SMTP:e2002@contoso.com'] });
  });

  test('failures: a taken UPN, a user mastered on-premises, and a failure set through the control API', async () => {
    entra();
    await post(
      bulkPath(),
      bulk(user('E2001', { userName: 'alex.wilber@contoso.com' }), user('E1001', { userName: 'megan.bowen@contoso.com', title: 'CEO' }), user('E2003')),
    );
    const ctl = await raw(
      sim,
      'POST',
      '/_sim/inbound/fail',
      { externalId: 'E2003', errorCode: 'AzureActiveDirectoryQuotaLimitExceeded', reason: 'Quota' },
      sim.inspectionToken,
    );
    expect(ctl).toMatchObject({
      status: 200,
      body: { errorCode: 'AzureActiveDirectoryQuotaLimitExceeded', reason: 'Quota', errorCategory: 'failure', times: 1 },
    });
    sim.inbound.process();
    const [upn, mastered, forced] = (await logs('?$orderby=activityDateTime asc')).value;
    expect(upn).toMatchObject({
      provisioningAction: 'create',
      targetIdentity: { id: '' },
      provisioningStatusInfo: {
        status: 'failure',
        errorInformation: {
          errorCode: 'AzureActiveDirectoryInvalidUserPrincipalName',
          reason: "Failed to create User 'E2001' in Microsoft Entra ID: Another object with the same value for property userPrincipalName already exists.",
          additionalDetails: null,
          errorCategory: 'nonServiceFailure',
          recommendedAction: null,
        },
      },
    });
    expect(upn.provisioningSteps[2]).toEqual({
      name: 'EntryExportAdd',
      provisioningStepType: 'export',
      status: 'failure',
      description: "Failed to create User 'E2001' in Microsoft Entra ID",
      details: {},
    });
    expect(mastered).toMatchObject({
      provisioningAction: 'update',
      targetIdentity: { id: MEGAN },
      provisioningStatusInfo: {
        status: 'failure',
        errorInformation: {
          errorCode: 'AzureActiveDirectoryCannotUpdateObjectsMasteredOnPremises',
          reason: 'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
        },
      },
    });
    expect(forced).toMatchObject({
      provisioningAction: 'create',
      provisioningStatusInfo: {
        status: 'failure',
        errorInformation: { errorCode: 'AzureActiveDirectoryQuotaLimitExceeded', reason: 'Quota', errorCategory: 'failure' },
      },
    });
    expect(usersWith('E2001')).toEqual([]);
    expect(usersWith('E2003')).toEqual([]);
    expect(sim.state.snapshot().users.find((u) => u.id === MEGAN)?.jobTitle).toBeUndefined();
    // The forced failure was for one record: sent again, it is created.
    await post(bulkPath(), bulk(user('E2003')));
    sim.inbound.process();
    expect(usersWith('E2003')).toHaveLength(1);
  });

  test('the provisioning log filters by job, source identity, status and time, and pages', async () => {
    entra();
    await post(bulkPath(), bulk(user('E2001'), user('E2002'), user('E2003', { userName: 'x@unverified.example' })));
    clock = T0 + 10 * MINUTE;
    sim.inbound.process();
    const q = (f: string) => logs(`?$filter=${encodeURIComponent(f)}`);
    expect((await q(`jobId eq '${JOB}' and sourceIdentity/id eq 'E2002'`)).value.map((e: any) => e.sourceIdentity.id)).toEqual(['E2002']);
    expect((await q(`provisioningStatusInfo/status eq 'failure'`)).value.map((e: any) => e.sourceIdentity.id)).toEqual(['E2003']);
    expect((await q(`activityDateTime gt 2026-12-01T09:10:00Z`)).value).toEqual([]);
    expect((await q(`activityDateTime ge 2026-12-01T09:10:00Z`)).value).toHaveLength(3);
    const bad = await raw(sim, 'GET', `/v1.0/auditLogs/provisioning?$filter=${encodeURIComponent("displayName eq 'x'")}`);
    expect(bad.status).toBe(400);
    const page1 = await logs('?$top=2&$orderby=activityDateTime asc');
    expect(page1['@odata.context']).toBe(`${sim.url}/v1.0/$metadata#auditLogs/provisioning`);
    expect(page1.value.map((e: any) => e.sourceIdentity.id)).toEqual(['E2001', 'E2002']);
    const next = await raw(sim, 'GET', page1['@odata.nextLink'].slice(sim.url.length));
    expect(next.body.value.map((e: any) => e.sourceIdentity.id)).toEqual(['E2003']);
    expect(next.body['@odata.nextLink']).toBeUndefined();
    // The Location of the 202 is a working query.
    const res = await post(bulkPath(), bulk(user('E2004')));
    expect((await raw(sim, 'GET', res.headers.location!.toString().slice(sim.url.length))).body.value).toHaveLength(3);
  });

  test('a time filter finds the same entries whether the log was written in time order or not (two apps processing in turn)', async () => {
    // Two jobs' entries, each in its own order, appended as their passes ran: 09:05 and 09:20 of one, 09:10 of the other between.
    const entry = (id: string, at: string) => ({ visibleAt: 0, entry: { id, activityDateTime: at, jobId: JOB, sourceIdentity: { id } } });
    const q = async (f: string, order = 'asc') =>
      (await logs(`?$filter=${encodeURIComponent(f)}&$orderby=activityDateTime ${order}`)).value.map((e: any) => e.id);
    sim.state.directory.inbound.logs.push(entry('a', '2026-12-01T09:05:00Z'), entry('c', '2026-12-01T09:20:00Z'));
    expect(await q('activityDateTime ge 2026-12-01T09:06:00Z')).toEqual(['c']);
    sim.state.directory.inbound.logs.push(entry('b', '2026-12-01T09:10:00Z'));
    expect(await q('activityDateTime ge 2026-12-01T09:06:00Z')).toEqual(['b', 'c']);
    expect(await q('activityDateTime gt 2026-12-01T09:05:00Z and activityDateTime lt 2026-12-01T09:20:00Z')).toEqual(['b']);
    expect(await q('activityDateTime ge 2026-12-01T09:00:00Z', 'desc')).toEqual(['c', 'b', 'a']);
  });
});

describe('job states', () => {
  const job = async (sp = SP, id = JOB) => (await raw(sim, 'GET', `/v1.0/servicePrincipals/${sp}/synchronization/jobs/${id}`)).body;

  test('paused: 202, nothing processed or logged, until the job runs again', async () => {
    entra({ state: 'Paused' });
    expect((await post(bulkPath(), bulk(user('E2001')))).status).toBe(202);
    clock = T0 + 60 * MINUTE;
    expect(sim.inbound.process()).toEqual({ processed: 0 });
    expect((await logs()).value).toEqual([]);
    expect(await job()).toEqual({
      '@odata.context': `${sim.url}/v1.0/$metadata#servicePrincipals('${SP}')/synchronization/jobs/$entity`,
      id: JOB,
      templateId: 'API2AAD',
      schedule: { expiration: null, interval: 'PT40M', state: 'Paused' },
      status: {
        code: 'Paused',
        countSuccessiveCompleteFailures: 0,
        escrowsPruned: false,
        lastExecution: null,
        lastSuccessfulExecution: null,
        lastSuccessfulExecutionWithExports: null,
        progress: [],
        quarantine: null,
        steadyStateFirstAchievedTime: '0001-01-01T00:00:00Z',
        steadyStateLastAchievedTime: '0001-01-01T00:00:00Z',
        synchronizedEntryCountByType: [],
        troubleshootingUrl: null,
      },
      synchronizationJobSettings: [],
    });
    const resumed = await raw(sim, 'PATCH', `/_sim/inbound/apps/${SP}/${JOB}`, { state: 'Active' }, sim.inspectionToken);
    expect(resumed).toMatchObject({ status: 200, body: { state: 'Active' } });
    expect((await logs()).value.map((e: any) => e.sourceIdentity.id)).toEqual(['E2001']);
  });

  test('quarantine: the job reports its reason and nothing is processed', async () => {
    entra({ state: 'Quarantine', quarantineReason: 'EncounteredQuarantineException' });
    await post(bulkPath(), bulk(user('E2001')));
    expect(sim.inbound.process()).toEqual({ processed: 0 });
    expect((await job()).status).toMatchObject({
      code: 'Quarantine',
      quarantine: {
        currentBegan: '2026-12-01T09:00:00Z',
        nextAttempt: '2026-12-01T09:40:00Z',
        reason: 'EncounteredQuarantineException',
        seriesBegan: '2026-12-01T09:00:00Z',
        seriesCount: 1,
        error: null,
      },
    });
  });

  test('the list of jobs of a service principal, and 404 for one without an inbound app', async () => {
    entra();
    const list = await raw(sim, 'GET', `/v1.0/servicePrincipals/${SP}/synchronization/jobs`);
    expect(list.body.value.map((j: any) => [j.id, j.templateId, j.status.code])).toEqual([[JOB, 'API2AAD', 'Active']]);
    expect((await raw(sim, 'GET', `/v1.0/servicePrincipals/${AD_SP}/synchronization/jobs`)).status).toBe(404);
  });
});

describe('AD target', () => {
  const ad = (extra: Record<string, unknown> = {}) =>
    sim.inbound.configure({ servicePrincipalId: AD_SP, jobId: AD_JOB, target: 'ad', adOu: 'OU=Staff,DC=contoso,DC=com', ...QUICK_LOG, ...extra });

  test('users are synced: onPremisesSyncEnabled, an immutable id from the objectGUID, and Graph may not write them', async () => {
    ad();
    expect((await post(bulkPath(AD_SP, AD_JOB), bulk(user('E2001')))).status).toBe(202);
    sim.inbound.process();
    const [u] = usersWith('E2001');
    expect(u).toMatchObject({
      userPrincipalName: 'e2001@contoso.com',
      onPremisesSyncEnabled: true,
      onPremisesImmutableId: expect.stringMatching(/^[A-Za-z0-9+/]{22}==$/),
      onPremisesSamAccountName: 'e2001',
      onPremisesUserPrincipalName: 'e2001@contoso.com',
      onPremisesDistinguishedName: 'CN=User E2001,OU=Staff,DC=contoso,DC=com',
      onPremisesDomainName: 'contoso.com',
      onPremisesLastSyncDateTime: '2026-12-01T09:00:00Z',
    });
    const guid = Buffer.from(String(u.onPremisesImmutableId), 'base64').toString('hex');
    const [entry] = (await logs()).value;
    expect(entry.targetSystem).toEqual({ id: sim.tenantId, displayName: 'Active Directory', details: {} });
    expect(entry.targetIdentity.id.replace(/-/g, '').slice(16)).toBe(guid.slice(16));
    expect(entry.targetIdentity.id).not.toBe(u.id);
    const patch = await raw(sim, 'PATCH', `/v1.0/users/${u.id}`, { jobTitle: 'x' });
    expect(patch.status).toBe(400);
    expect(patch.body).toEqual({
      error: {
        code: 'Request_BadRequest',
        message: 'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
        innerError,
      },
    });
    // The AD app itself updates them.
    await post(bulkPath(AD_SP, AD_JOB), bulk(user('E2001', { title: 'Clerk' })));
    sim.inbound.process();
    expect(usersWith('E2001')[0].jobTitle).toBe('Clerk');
  });

  test('with the agent inactive nothing is processed and the job reports it', async () => {
    ad({ agentActive: false });
    await post(bulkPath(AD_SP, AD_JOB), bulk(user('E2001')));
    clock = T0 + 6 * MINUTE;
    expect((await logs()).value).toEqual([]);
    const job = (await raw(sim, 'GET', `/v1.0/servicePrincipals/${AD_SP}/synchronization/jobs/${AD_JOB}`)).body;
    expect(job.templateId).toBe('API2AD');
    expect(job.status.code).toBe('Active');
    expect(job.status.lastExecution).toMatchObject({
      state: 'Failed',
      error: { code: 'AgentUnavailable', message: 'The on-premises provisioning agent is inactive.', tenantActionable: true },
      timeBegan: '2026-12-01T09:06:00Z',
    });
    sim.inbound.update(AD_SP, AD_JOB, { agentActive: true });
    expect((await logs()).value).toHaveLength(1);
  });
});

describe('control API and persistence', () => {
  test('/_sim/inbound configures an app and reports it', async () => {
    const created = await raw(sim, 'POST', '/_sim/inbound/apps', { target: 'entra', recordsPerMinute: 12.5 }, sim.inspectionToken);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      servicePrincipalId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      jobId: expect.stringMatching(new RegExp(`^API2AAD\\.${sim.tenantId.replace(/-/g, '')}\\.[0-9a-f-]{36}$`)),
      displayName: 'API-driven provisioning to Microsoft Entra ID',
      target: 'entra',
      matching: { source: 'externalId', target: 'employeeId' },
      state: 'Active',
      quarantineReason: null,
      agentActive: true,
      processingDelayMs: 0,
      logDelayMs: 300000,
      logDelayJitterMs: 0,
      recordsPerMinute: 12.5,
      dailyQuota: 2000,
      stagingCapacity: null,
      adOu: 'OU=Users,DC=contoso,DC=com',
      mappings: {},
    });
    const bad = await raw(sim, 'POST', '/_sim/inbound/apps', { target: 'ldap' }, sim.inspectionToken);
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'BadRequest', message: "target must be 'entra' or 'ad'" } } });
    const listed = await raw(sim, 'GET', '/_sim/inbound', undefined, sim.inspectionToken);
    expect(listed.body.apps).toEqual([{ ...created.body, staged: 0, callsLast24h: 0 }]);
    const processed = await raw(sim, 'POST', '/_sim/inbound/process', {}, sim.inspectionToken);
    expect(processed.body).toEqual({ processed: 0 });
  });

  test('the saved tenant keeps apps, staged records, the log and the calls across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-sim-inbound-'));
    const stateFile = join(dir, 'simulator.json');
    let now = T0;
    const first = await startSimulator({ seed: FIXTURE, throttling: false, now: () => now, dataDir: dir, stateFile, saveEveryMs: 60_000 });
    first.grant(INBOUND_ROLES);
    first.inbound.configure({ servicePrincipalId: SP, jobId: JOB, target: 'entra', ...QUICK_LOG });
    const token = await tokenFor(first);
    const send = (s: RunningSimulator, body: unknown) =>
      undiciRequest(`${s.url}/v1.0${bulkPath()}`, {
        method: 'POST',
        headers: { 'content-type': 'application/scim+json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
        dispatcher: new Agent({ connect: { ca: s.caPem } }),
      });
    expect((await send(first, bulk(user('E2001')))).statusCode).toBe(202);
    first.inbound.process();
    expect((await send(first, bulk(user('E2002')))).statusCode).toBe(202);
    await first.close();
    const second = await startSimulator({ seed: FIXTURE, throttling: false, now: () => now, dataDir: dir, stateFile });
    try {
      expect(second.inbound.apps()).toEqual([expect.objectContaining({ jobId: JOB, staged: 1, callsLast24h: 2 })]);
      expect(second.inbound.logs().map((e) => (e.sourceIdentity as { id: string }).id)).toEqual(['E2001']);
      now = T0 + 5 * MINUTE;
      expect(second.inbound.process()).toEqual({ processed: 1 });
      expect(second.state.snapshot().users.filter((u) => u.employeeId === 'E2002')).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});

test('the provisioning log is read within the reports limit: 5 requests per 10 s per app, apart from the directory budget', async () => {
  // A clock a thousand times slower than real time: nothing refills while the test runs.
  const slow = await startSimulator({ seed: FIXTURE, throttling: true, timeScale: 0.001, dataDir: mkdtempSync(join(tmpdir(), 'graph-sim-test-')) });
  try {
    slow.grant(INBOUND_ROLES);
    const token = await tokenFor(slow);
    for (let i = 0; i < 5; i++) expect((await raw(slow, 'GET', '/v1.0/auditLogs/provisioning', undefined, token)).status).toBe(200);
    const refused = await raw(slow, 'GET', '/v1.0/auditLogs/provisioning', undefined, token);
    expect(refused.status).toBe(429);
    expect(refused.headers['x-ms-throttle-information']).toBe('ReportsLimitExceeded');
    expect(refused.body.error).toMatchObject({ code: 'TooManyRequests' });
    expect((await raw(slow, 'GET', '/v1.0/users', undefined, token)).status).toBe(200);
  } finally {
    await slow.close();
  }
});
