// The replication-lag fault on writes: an object created within the lag is not found yet by a
// write that names it, with the answers Graph documents for recently created objects.
import { innerError, raw } from './graph-client';
import { ALEX, E3, SALES, useSimulator } from './setup';

// The lag is measured on this test's clock: moving it on replaces waiting out the lag in real time.
let now = Date.now();
const h = useSimulator({ now: () => now });
const waitOutLag = (ms: number) => void (now += ms);

const NOT_FOUND = (id: string) => ({
  error: {
    code: 'Request_ResourceNotFound',
    message: `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
    innerError,
  },
});
const REFERENCE_MISSING = {
  error: { code: 'Request_BadRequest', message: 'The source resource object or one of the objects being referenced do not exist.', innerError },
};
const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

async function createUser(upn: string): Promise<string> {
  const res = await raw(h.sim, 'POST', '/v1.0/users', {
    accountEnabled: true,
    displayName: upn,
    mailNickname: upn.split('@')[0],
    userPrincipalName: upn,
    usageLocation: 'US',
    passwordProfile: { password: 'xWwvJ]6NMw+bWH-d' },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

test('a user created within the lag is not found by writes that name it, then is', async () => {
  h.sim.faults.set({ replicationLagMs: 300 });
  const id = await createUser('adele@contoso.com');
  const writes = [
    ['PATCH', `/v1.0/users/${id}`, { jobTitle: 'Engineer' }],
    ['POST', `/v1.0/users/${id}/assignLicense`, { addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] }],
    ['PUT', `/v1.0/users/${id}/manager/$ref`, ref(ALEX)],
    ['POST', `/v1.0/users/${id}/revokeSignInSessions`, undefined],
  ] as const;
  for (const [method, path, body] of writes) expect(await raw(h.sim, method, path, body)).toMatchObject({ status: 404, body: NOT_FOUND(id) });
  // As a manager, and as a member (members/$ref and members@odata.bind).
  expect(await raw(h.sim, 'PUT', `/v1.0/users/${ALEX}/manager/$ref`, ref(id))).toMatchObject({ status: 404, body: NOT_FOUND(id) });
  expect(await raw(h.sim, 'POST', `/v1.0/groups/${SALES}/members/$ref`, ref(id))).toMatchObject({ status: 400, body: REFERENCE_MISSING });
  expect(await raw(h.sim, 'PATCH', `/v1.0/groups/${SALES}`, { 'members@odata.bind': [ref(id)['@odata.id']] })).toMatchObject({
    status: 400,
    body: REFERENCE_MISSING,
  });
  expect((await raw(h.sim, 'GET', `/v1.0/users/${id}`)).status).toBe(200);
  waitOutLag(320);
  expect((await raw(h.sim, 'PATCH', `/v1.0/users/${id}`, { jobTitle: 'Engineer' })).status).toBe(204);
  expect((await raw(h.sim, 'PUT', `/v1.0/users/${id}/manager/$ref`, ref(ALEX))).status).toBe(204);
  expect((await raw(h.sim, 'POST', `/v1.0/groups/${SALES}/members/$ref`, ref(id))).status).toBe(204);
  const snap = h.sim.state.snapshot();
  expect(snap.users.find((u) => u.id === id)!.jobTitle).toBe('Engineer');
  expect(snap.groups.find((g) => g.id === SALES)!.members).toContain(id);
});

test('a group created within the lag refuses member adds with 400 and property updates with 404', async () => {
  h.sim.faults.set({ replicationLagMs: 300 });
  const created = await raw(h.sim, 'POST', '/v1.0/groups', { displayName: 'Ops', mailNickname: 'ops', mailEnabled: false, securityEnabled: true });
  const gid = created.body.id;
  expect(await raw(h.sim, 'POST', `/v1.0/groups/${gid}/members/$ref`, ref(ALEX))).toMatchObject({ status: 400, body: REFERENCE_MISSING });
  expect(await raw(h.sim, 'PATCH', `/v1.0/groups/${gid}`, { 'members@odata.bind': [ref(ALEX)['@odata.id']] })).toMatchObject({
    status: 400,
    body: REFERENCE_MISSING,
  });
  expect(await raw(h.sim, 'PATCH', `/v1.0/groups/${gid}`, { description: 'x' })).toMatchObject({ status: 404, body: NOT_FOUND(gid) });
  waitOutLag(320);
  expect((await raw(h.sim, 'PATCH', `/v1.0/groups/${gid}`, { 'members@odata.bind': [ref(ALEX)['@odata.id']] })).status).toBe(204);
});

test('clearing the fault ends the lag for writes; objects created without it are found at once', async () => {
  h.sim.faults.set({ replicationLagMs: 60_000 });
  const lagging = await createUser('lag@contoso.com');
  h.sim.faults.clear();
  expect((await raw(h.sim, 'PATCH', `/v1.0/users/${lagging}`, { jobTitle: 'a' })).status).toBe(204);
  const fresh = await createUser('fresh@contoso.com');
  expect((await raw(h.sim, 'PATCH', `/v1.0/users/${fresh}`, { jobTitle: 'b' })).status).toBe(204);
});
