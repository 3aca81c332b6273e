import { graphError, innerError } from './graph-client';
import { ALEX, MEGAN, SALES, newUser, useSimulator } from './setup';

const h = useSimulator();
const ref = (id: string) => `https://graph.microsoft.com/v1.0/directoryObjects/${id}`;
const securityGroup = (extra: Record<string, unknown> = {}) => ({
  displayName: 'Engineering',
  mailEnabled: false,
  mailNickname: 'engineering',
  securityEnabled: true,
  ...extra,
});

test('POST /groups with members@odata.bind creates the group with its members', async () => {
  const g = await h.client.api('/groups').post(securityGroup({ 'members@odata.bind': [ref(ALEX), ref(MEGAN)] }));
  expect(g).toMatchObject({
    '@odata.context': `${h.sim.url}/v1.0/$metadata#groups/$entity`,
    displayName: 'Engineering',
    mailEnabled: false,
    securityEnabled: true,
    groupTypes: [],
    mail: null,
  });
  const members = await h.client.api(`/groups/${g.id}/members`).get();
  expect(members.value.map((m: { id: string; '@odata.type': string }) => [m['@odata.type'], m.id])).toEqual([
    ['#microsoft.graph.user', ALEX],
    ['#microsoft.graph.user', MEGAN],
  ]);
});

test('POST /groups requires displayName, mailEnabled, mailNickname and securityEnabled', async () => {
  for (const key of ['displayName', 'mailEnabled', 'mailNickname', 'securityEnabled']) {
    const body: Record<string, unknown> = securityGroup();
    delete body[key];
    expect((await graphError(h.client.api('/groups').post(body))).body.error.details).toEqual([
      { code: 'PropertyRequired', message: 'Property value is required but is empty or missing.', target: key },
    ]);
  }
  expect((await graphError(h.client.api('/groups').post(securityGroup({ mail: 'x@contoso.com' })))).body.error.message).toBe(
    "Property 'mail' is read-only and cannot be set.",
  );
  expect(h.sim.contract.take()).toEqual(["POST /groups: property 'mail' is not writable on microsoft.graph.group"]);
});

test('more than 20 references in one request are refused', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 21; i++) ids.push((await h.client.api('/users').post(newUser(`m${i}@contoso.com`, { mailNickname: `m${i}` }))).id);
  const err = await graphError(h.client.api('/groups').post(securityGroup({ 'members@odata.bind': ids.map(ref) })));
  expect(err.body.error).toEqual({
    code: 'Request_BadRequest',
    message: 'The request contains 21 object references; at most 20 can be added in a single request.',
    innerError,
  });
  const g = await h.client.api('/groups').post(securityGroup({ 'members@odata.bind': ids.slice(0, 20).map(ref) }));
  expect(h.sim.state.snapshot().groups.find((x) => x.id === g.id)!.members).toHaveLength(20);
});

test('members/$ref: adding an existing member and removing a missing one answer as Graph does', async () => {
  expect((await graphError(h.client.api(`/groups/${SALES}/members/$ref`).post({ '@odata.id': ref(ALEX) }))).body.error).toEqual({
    code: 'Request_BadRequest',
    message: "One or more added object references already exist for the following modified properties: 'members'.",
    innerError,
  });
  await h.client.api(`/groups/${SALES}/members/$ref`).post({ '@odata.id': ref(MEGAN) });
  await h.client.api(`/groups/${SALES}/members/${ALEX}/$ref`).delete();
  expect(h.sim.state.snapshot().groups.find((g) => g.id === SALES)!.members).toEqual([MEGAN]);
  expect((await graphError(h.client.api(`/groups/${SALES}/members/${ALEX}/$ref`).delete())).body.error).toEqual({
    code: 'Request_ResourceNotFound',
    message: `Resource '${ALEX}' does not exist or one of its queried reference-property objects are not present.`,
    innerError,
  });
  expect((await graphError(h.client.api(`/groups/${SALES}`).patch({ 'members@odata.bind': [ref(MEGAN)] }))).body.error.message).toBe(
    "One or more added object references already exist for the following modified properties: 'members'.",
  );
});

test('a deleted security group is gone for good, a Microsoft 365 group goes to the recycle bin', async () => {
  await h.client.api(`/groups/${SALES}`).delete();
  expect((await graphError(h.client.api(`/groups/${SALES}`).get())).status).toBe(404);
  expect((await h.client.api('/directory/deletedItems/microsoft.graph.group').get()).value).toEqual([]);
  const m365 = await h.client
    .api('/groups')
    .post({ displayName: 'Project X', mailEnabled: true, mailNickname: 'projectx', securityEnabled: false, groupTypes: ['Unified'] });
  expect(m365.mail).toBe('projectx@contoso.com');
  await h.client.api(`/groups/${m365.id}`).delete();
  expect((await h.client.api('/directory/deletedItems/microsoft.graph.group').get()).value.map((g: { id: string }) => g.id)).toEqual([m365.id]);
  expect((await graphError(h.client.api('/groups').post(securityGroup({ mailEnabled: true })))).body.error.message).toBe(
    'Creating mail-enabled security groups or distribution lists is not supported through Microsoft Graph.',
  );
});

test('groups/delta reports member additions and removals after the delta link', async () => {
  expect((await h.client.api('/groups/delta').select('displayName').get()).value).toEqual([{ displayName: 'Sales', id: SALES }]);
  let page = await h.client.api('/groups/delta').select('displayName,members').get();
  expect(page.value).toEqual([{ displayName: 'Sales', id: SALES, 'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: ALEX }] }]);
  const deltaLink = page['@odata.deltaLink'];
  expect(deltaLink).toMatch(new RegExp(`^${h.sim.url}/v1.0/groups/delta\\?\\$deltatoken=`));
  await h.client.api(`/groups/${SALES}/members/${ALEX}/$ref`).delete();
  await h.client.api(`/groups/${SALES}/members/$ref`).post({ '@odata.id': ref(MEGAN) });
  page = await h.client.api(deltaLink).get();
  expect(page.value).toEqual([
    {
      displayName: 'Sales',
      id: SALES,
      'members@delta': [
        { '@odata.type': '#microsoft.graph.user', id: MEGAN },
        { '@odata.type': '#microsoft.graph.user', id: ALEX, '@removed': { reason: 'deleted' } },
      ],
    },
  ]);
  expect((await h.client.api(page['@odata.deltaLink']).get()).value).toEqual([]);
});

test('users/delta reports changes and soft deletions since the delta link', async () => {
  const first = await h.client.api('/users/delta').select('userPrincipalName,jobTitle').get();
  expect(first.value.map((u: { userPrincipalName: string }) => u.userPrincipalName).sort()).toEqual(['alex.wilber@contoso.com', 'megan.bowen@contoso.com']);
  const { id } = await h.client.api('/users').post(newUser('adele@contoso.com'));
  await h.client.api(`/users/${ALEX}`).patch({ jobTitle: 'Buyer' });
  await h.client.api(`/users/${id}`).delete();
  const next = await h.client.api(first['@odata.deltaLink']).get();
  expect(next.value).toEqual([
    { userPrincipalName: 'alex.wilber@contoso.com', jobTitle: 'Buyer', id: ALEX },
    { id, '@removed': { reason: 'changed' } },
  ]);
});

test('users/delta with $select=manager carries manager@delta', async () => {
  const first = await h.client.api('/users/delta').select('displayName,manager').get();
  expect(first.value).toEqual([
    { displayName: 'Megan Bowen', id: MEGAN, 'manager@delta': [] },
    { displayName: 'Alex Wilber', id: ALEX, 'manager@delta': [{ '@odata.type': '#microsoft.graph.user', id: MEGAN }] },
  ]);
  await h.client.api(`/users/${ALEX}/manager/$ref`).delete();
  expect((await h.client.api(first['@odata.deltaLink']).get()).value).toEqual([{ displayName: 'Alex Wilber', id: ALEX, 'manager@delta': [] }]);
});
