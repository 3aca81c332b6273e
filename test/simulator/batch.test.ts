import { BatchRequestContent, BatchResponseContent } from '@microsoft/microsoft-graph-client';
import { graphError, innerError } from './graph-client';
import { ALEX, EXCHANGE, newUser, useSimulator } from './setup';

const h = useSimulator();
const batch = (requests: unknown[]) => h.client.api('/$batch').post({ requests });
const json = { 'Content-Type': 'application/json' };

test("the client's batch helper keeps /v1.0 in item urls, which Graph rejects per item", async () => {
  const content = new BatchRequestContent([{ id: '1', request: new Request(`${h.sim.url}/v1.0/users/${ALEX}`, { method: 'GET' }) }]);
  const body = await content.getContent();
  expect(body.requests[0].url).toBe(`/v1.0/users/${ALEX}`);
  const res = new BatchResponseContent(await h.client.api('/$batch').post(body));
  const item = res.getResponseById('1');
  expect(item.status).toBe(400);
  expect(await item.json()).toEqual({ error: { code: 'BadRequest', message: "Resource not found for the segment 'v1.0'.", innerError } });
  expect(h.sim.contract.take()).toEqual([`GET /v1.0/users/${ALEX}: no such path in Graph v1.0 for an Application permission`]);
});

test('relative urls run in dependsOn order and each item answers with its own status, headers and body', async () => {
  const res = await batch([
    { id: '1', method: 'POST', url: '/users', headers: json, body: newUser('adele@contoso.com', { usageLocation: 'US' }) },
    { id: '2', method: 'GET', url: "users?$filter=userPrincipalName eq 'adele@contoso.com'&$select=id,usageLocation", dependsOn: ['1'] },
    { id: '3', method: 'PATCH', url: `/users/adele@contoso.com`, headers: json, body: { jobTitle: 'Engineer' }, dependsOn: ['2'] },
  ]);
  expect(res.responses.map((r: { id: string; status: number }) => [r.id, r.status])).toEqual([
    ['1', 201],
    ['2', 200],
    ['3', 204],
  ]);
  expect(res.responses[1].body.value).toEqual([{ id: res.responses[0].body.id, usageLocation: 'US' }]);
  expect(res.responses[0].headers).toMatchObject({ 'x-ms-resource-unit': '1', 'Content-Type': expect.stringContaining('application/json') });
  expect(res.responses[2].body).toBeUndefined();
});

test('a failed request fails its dependents with 424', async () => {
  const res = await batch([
    { id: '1', method: 'POST', url: '/users', headers: json, body: newUser('adele@nowhere.example') },
    {
      id: '2',
      method: 'POST',
      url: '/users/adele@nowhere.example/assignLicense',
      headers: json,
      body: { addLicenses: [{ skuId: EXCHANGE }], removeLicenses: [] },
      dependsOn: ['1'],
    },
    { id: '3', method: 'GET', url: '/users', dependsOn: ['2'] },
  ]);
  expect(res.responses.map((r: { status: number }) => r.status)).toEqual([400, 424, 424]);
  expect(res.responses[1].body).toEqual({
    error: { code: 'FailedDependency', message: 'Request 2 failed because a request it depends on failed.', innerError },
  });
  expect(h.sim.requests.list({ method: 'POST', pathPrefix: '/users/' })).toEqual([]);
});

test('a batch of more than 20 requests is refused as a whole', async () => {
  const requests = Array.from({ length: 21 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: '/users' }));
  expect(await graphError(batch(requests))).toEqual({
    status: 400,
    headers: expect.anything(),
    body: { error: { code: 'BadRequest', message: 'Maximum number of requests in a batch is 20. The batch contains 21 requests.', innerError } },
  });
  expect((await batch(requests.slice(0, 20))).responses).toHaveLength(20);
});

test('ids must be unique regardless of case', async () => {
  expect(
    (
      await graphError(
        batch([
          { id: 'a', method: 'GET', url: '/users' },
          { id: 'A', method: 'GET', url: '/users' },
        ]),
      )
    ).body.error,
  ).toEqual({
    code: 'BadRequest',
    message: 'Request Id A has to be unique in a batch.',
    innerError,
  });
});

test('absolute urls, bodies without Content-Type and half-sequential batches are refused', async () => {
  expect((await graphError(batch([{ id: '1', method: 'GET', url: `${h.sim.url}/v1.0/users` }]))).body.error.message).toBe(
    `Request 1 has an absolute url '${h.sim.url}/v1.0/users'. Batch request urls must be relative to the Microsoft Graph version root.`,
  );
  expect((await graphError(batch([{ id: '1', method: 'POST', url: '/users', body: newUser('adele@contoso.com') }]))).body.error.message).toBe(
    'Content-Type header is required for request 1 with a body.',
  );
  const mixed = [
    { id: '1', method: 'GET', url: '/users' },
    { id: '2', method: 'GET', url: '/users', dependsOn: ['1'] },
    { id: '3', method: 'GET', url: '/groups' },
  ];
  expect((await graphError(batch(mixed))).body.error.message).toBe('Batch should be either fully sequential or fully parallel.');
  expect(
    (
      await graphError(
        batch([
          { id: '1', method: 'GET', url: '/users', dependsOn: ['9'] },
          { id: '2', method: 'GET', url: '/users' },
        ]),
      )
    ).body.error.message,
  ).toBe('Request 1 depends on request 9, which is not in the batch.');
});

test('items are logged one by one under the batch request', async () => {
  await batch([{ id: 'x', method: 'GET', url: `/users/${ALEX}?$select=id` }]);
  const entries = h.sim.requests.list();
  expect(entries.map((e) => [e.method, e.url, e.status, e.batchItemId])).toEqual([
    ['GET', `/users/${ALEX}?$select=id`, 200, 'x'],
    ['POST', '/$batch', 200, undefined],
  ]);
});
