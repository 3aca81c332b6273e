// The Graph operation log: which bridge resource each request concerned (from the Graph id in the
// path, the UPN or group name of a lookup or create), Graph's error message without secrets, and
// never a body.
import { createGraphLog, targetKeys } from '../../../src/admin/graph-log';
import type { GraphClient } from '../../../src/graph/client';

test('targetKeys reads the Graph id from the path, the UPN or name from a lookup or create, and the id a create answered', () => {
  expect(targetKeys('PATCH', '/users/abc-123', { passwordProfile: { password: 'x' } }, undefined)).toEqual({ graphId: 'abc-123' });
  expect(targetKeys('PUT', '/users/abc-123/manager/$ref', {}, undefined)).toEqual({ graphId: 'abc-123' });
  expect(targetKeys('DELETE', '/groups/g-1/members/u-2/$ref', undefined, undefined)).toEqual({ graphId: 'g-1' });
  expect(targetKeys('POST', '/directory/deletedItems/u-9/restore', {}, undefined)).toEqual({ graphId: 'u-9' });
  expect(targetKeys('GET', `/users?$filter=${encodeURIComponent("userPrincipalName eq 'o''brien@example.com'")}&$select=id`, undefined, undefined)).toEqual({
    userName: "o'brien@example.com",
  });
  expect(targetKeys('GET', `/groups?$filter=${encodeURIComponent("displayName eq 'Sales'")}`, undefined, undefined)).toEqual({ groupName: 'Sales' });
  // The engine's look-up of one user (`in` with one value) names it; a look-up of several names each.
  expect(targetKeys('GET', `/users?$filter=${encodeURIComponent("userPrincipalName in ('ada@example.com')")}&$select=id`, undefined, undefined)).toEqual({
    userName: 'ada@example.com',
  });
  expect(targetKeys('GET', `/users?$filter=${encodeURIComponent("userPrincipalName in ('ada@example.com','bob@example.com')")}`, undefined, undefined)).toEqual(
    { userNames: ['ada@example.com', 'bob@example.com'] },
  );
  expect(targetKeys('POST', '/users', { userPrincipalName: 'ada@example.com', passwordProfile: { password: 'P@ss' } }, { id: 'new-id' })).toEqual({
    userName: 'ada@example.com',
    graphId: 'new-id',
  });
  expect(targetKeys('GET', '/users/delta?$deltatoken=x', undefined, undefined)).toEqual({});
  // The engine looks users up 15 to a read.
  expect(
    targetKeys('GET', `/users?$filter=${encodeURIComponent("userPrincipalName in ('a@example.com','o''b@example.com')")}&$select=id`, undefined, undefined),
  ).toEqual({
    userNames: ['a@example.com', "o'b@example.com"],
  });
});

test('entries name their resource, keep Graph errors (secrets redacted), never bodies; kept per resource', async () => {
  const answers: Record<string, { status: number; body: unknown }> = {
    '/users': { status: 400, body: { error: { code: 'Request_BadRequest', message: 'bad upn; client secret s3cr3t-value leaked' } } },
    '/users/g-1': { status: 204, body: undefined },
  };
  const client = {
    baseUrl: 'https://graph.example',
    request: async (_m: string, path: string) => ({ status: answers[path].status, headers: {}, body: answers[path].body }),
    batch: async (items: { id: string; url: string }[]) =>
      items.map((i) => ({ id: i.id, status: answers[i.url].status, headers: {}, body: answers[i.url].body })),
  } as unknown as GraphClient;
  const resolve = (k: { graphId?: string; userName?: string }) =>
    k.graphId === 'g-1' ? { type: 'User' as const, id: 'u-1' } : k.userName === 'ada@example.com' ? { type: 'User' as const, id: 'u-2' } : null;
  const log = createGraphLog(10, undefined, { resolve, secrets: ['s3cr3t-value'] });
  const graph = log.wrap(client);
  await graph.request('POST', '/users', { userPrincipalName: 'ada@example.com', passwordProfile: { password: 'Secret-Passw0rd' } });
  await graph.batch([{ id: '1', method: 'PATCH', url: '/users/g-1', body: { displayName: 'X' } }]);
  const all = log.entries(10);
  expect(all).toEqual([
    {
      seq: 2,
      at: expect.any(String),
      method: 'PATCH',
      path: '/users/g-1',
      status: 204,
      ms: expect.any(Number),
      batch: expect.any(String),
      resource: { type: 'User', id: 'u-1' },
    },
    {
      seq: 1,
      at: expect.any(String),
      method: 'POST',
      path: '/users',
      status: 400,
      ms: expect.any(Number),
      resource: { type: 'User', id: 'u-2' },
      error: expect.stringMatching(/^Request_BadRequest: bad upn; client secret .*leaked$/),
    },
  ]);
  expect(JSON.stringify(all)).not.toMatch(/s3cr3t-value|Secret-Passw0rd|displayName/);
  expect(log.forResource('User', 'u-2').map((e) => e.seq)).toEqual([1]);
  expect(log.forResource('User', 'u-1', { afterSeq: 1 }).map((e) => e.seq)).toEqual([2]);
  expect(log.forResource('User', 'u-1', { afterSeq: 2 })).toEqual([]);
  expect(log.lastSeq()).toBe(2);
  expect(log.writesWithin(60_000)).toBe(2);
});
