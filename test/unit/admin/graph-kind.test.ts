// The `kind` label of the Graph metrics: method and path with every id folded, so the number of
// series stays bounded whatever the tenant holds.
import { graphKind } from '../../../src/admin/metrics';

test.each([
  ['POST', '/users', 'POST /users'],
  ['PATCH', '/users/5be6af7c-2e96-4cad-bee4-741daedae361', 'PATCH /users/{id}'],
  ['POST', '/users/5be6af7c-2e96-4cad-bee4-741daedae361/assignLicense', 'POST /users/{id}/assignLicense'],
  ['PUT', '/users/5be6af7c-2e96-4cad-bee4-741daedae361/manager/$ref', 'PUT /users/{id}/manager/$ref'],
  ['GET', '/users/ada@contoso.com?$select=id', 'GET /users/{id}'],
  ['DELETE', '/groups/0f1e/members/abc123/$ref', 'DELETE /groups/{id}/members/{id}/$ref'],
  ['GET', "/users?$filter=onPremisesImmutableId eq 'x'", 'GET /users'],
  ['GET', 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=abc', 'GET /users/delta'],
  ['PATCH', '/organization/84f2e6e1-0b0a-4b48-8f8c-6c9f6f3c8a10', 'PATCH /organization/{id}'],
  ['GET', "/users('ada@contoso.com')", 'GET /users({id})'],
  ['get', '/subscribedSkus', 'GET /subscribedSkus'],
])('%s %s -> %s', (method, path, kind) => {
  expect(graphKind(method, path)).toBe(kind);
});
