// Per-source bearer auth and the ownership rules of SPEC section 3: the token names the source,
// a source sees and changes what it owns, `seesAll` sees everything, `contributes` lets a source
// change named attributes of resources it does not own, and a collision is 409 with no change.
import request from 'supertest';
import { ENTERPRISE, TOKENS, scimError, snapshot, startHarness, type Harness } from './scim-harness';

let h: Harness;
beforeEach(() => (h = startHarness()));
afterEach(() => h.close());

describe('bearer auth', () => {
  test('no Authorization header: 401 with WWW-Authenticate and a SCIM error body', async () => {
    const res = await request(h.app).get('/scim/v2/Users');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="scim-graph-bridge"');
    expect(res.body).toEqual(scimError(401, 'a bearer token is required'));
  });

  test.each([
    ['a wrong token', `Bearer ${TOKENS.okta}x`],
    ['another scheme', `Basic ${Buffer.from('okta:x').toString('base64')}`],
    ['an empty bearer', 'Bearer '],
  ])('%s: 401 invalid_token', async (_name, header) => {
    const res = await request(h.app).get('/scim/v2/Users').set('Authorization', header);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="scim-graph-bridge", error="invalid_token"');
    expect(res.body).toEqual(scimError(401, 'the bearer token is not valid for any source'));
  });

  test('a source configured with tokenSha256 authenticates with the token itself', async () => {
    const res = await request(h.app).get('/scim/v2/Users').set('Authorization', `bearer ${TOKENS.script}`);
    expect(res.status).toBe(200);
  });

  test('an unauthenticated write reads no body and changes nothing', async () => {
    const before = snapshot(h.file);
    const res = await request(h.app).post('/scim/v2/Users').send({ userName: 'x@example.com' });
    expect(res.status).toBe(401);
    expect(snapshot(h.file)).toEqual(before);
  });
});

describe('ownership and visibility', () => {
  async function oktaUser(): Promise<string> {
    const res = await h
      .as('okta')
      .post('/scim/v2/Users')
      .send({ userName: 'ann@example.com', displayName: 'Ann', title: 'Clerk', [ENTERPRISE]: { department: 'Ops' } });
    return res.body.id;
  }

  test('another source cannot see, change or delete what it does not own (404)', async () => {
    const id = await oktaUser();
    expect((await h.as('entra').get(`/scim/v2/Users/${id}`)).body).toEqual(scimError(404, `User ${id} not found`));
    expect((await h.as('entra').get('/scim/v2/Users?filter=userName%20eq%20%22ann@example.com%22')).body.totalResults).toBe(0);
    const before = snapshot(h.file);
    expect(
      (
        await h
          .as('entra')
          .patch(`/scim/v2/Users/${id}`)
          .send({ Operations: [{ op: 'replace', path: 'title', value: 'x' }] })
      ).status,
    ).toBe(404);
    expect((await h.as('entra').delete(`/scim/v2/Users/${id}`)).status).toBe(404);
    expect(snapshot(h.file)).toEqual(before);
  });

  test("a create that collides with another source's user is 409 uniqueness and changes nothing", async () => {
    await oktaUser();
    const before = snapshot(h.file);
    const res = await h.as('entra').post('/scim/v2/Users').send({ userName: 'ANN@example.com' });
    expect(res.body).toEqual(scimError(409, 'userName "ANN@example.com" is already taken', 'uniqueness'));
    expect(snapshot(h.file)).toEqual(before);
  });

  test('a seesAll source sees and changes every resource; attribution records it', async () => {
    const id = await oktaUser();
    expect((await h.as('script').get(`/scim/v2/Users/${id}`)).status).toBe(200);
    expect(
      (
        await h
          .as('script')
          .patch(`/scim/v2/Users/${id}`)
          .send({ Operations: [{ op: 'replace', path: 'displayName', value: 'Annie' }] })
      ).status,
    ).toBe(204);
    expect(h.store.attribution.list('User', id).find((a) => a.attribute === 'displayName')?.sourceId).toBe('script');
    expect((await h.as('okta').get(`/scim/v2/Users/${id}`)).body.displayName).toBe('Annie');
  });

  test("a contributing source changes only its named attributes of others' resources (403 otherwise)", async () => {
    const id = await oktaUser();
    const ok = await h
      .as('hr')
      .patch(`/scim/v2/Users/${id}`)
      .send({
        Operations: [
          { op: 'replace', path: 'title', value: 'Supervisor' },
          { op: 'replace', path: `${ENTERPRISE}:department`, value: 'HR' },
        ],
      });
    expect(ok.status).toBe(204);
    const attributed = Object.fromEntries(h.store.attribution.list('User', id).map((a) => [a.attribute, a.sourceId]));
    expect(attributed).toMatchObject({ title: 'hr', [`${ENTERPRISE}:department`]: 'hr', displayName: 'okta', userName: 'okta' });
    const before = snapshot(h.file);
    const denied = await h
      .as('hr')
      .patch(`/scim/v2/Users/${id}`)
      .send({ Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] });
    expect(denied.body).toEqual(scimError(403, 'source "hr" does not own this User and may not change displayName'));
    expect((await h.as('hr').delete(`/scim/v2/Users/${id}`)).body).toEqual(scimError(403, 'source "hr" does not own this User'));
    expect(snapshot(h.file)).toEqual(before);
  });

  test('a contributing source refused on a Group may still change its attributes of a User', async () => {
    const id = await oktaUser();
    const group = await h
      .as('okta')
      .post('/scim/v2/Groups')
      .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Staff' });
    expect(group.status).toBe(201);
    const deniedGroup = await h
      .as('hr')
      .patch(`/scim/v2/Groups/${group.body.id}`)
      .send({ Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] });
    expect(deniedGroup.body).toEqual(scimError(403, 'source "hr" does not own this Group and may not change displayName'));
    const ok = await h
      .as('hr')
      .patch(`/scim/v2/Users/${id}`)
      .send({ Operations: [{ op: 'replace', path: 'title', value: 'Supervisor' }] });
    expect(ok.status).toBe(204);
  });
});
