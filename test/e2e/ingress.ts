// SCIM writes for the end-to-end tests, sent as an IdP sends them: HTTP requests to the real SCIM
// app (createApp) over the harness's config and store, authenticated as source okta. The server
// assigns ids; the tests name resources ('u-ada') and resolve the names with id(). A test name
// travels as externalId, and a manager.value or member value naming a test resource is sent as
// its server id. Nothing here computes what the ingress records: tests read it back (GET).
import { Agent, createServer, type Server } from 'node:http';
import request from 'supertest';
import type { Config } from '../../src/config';
import { BRIDGE_USER_SCHEMA } from '../../src/rules/identity';
import { createLogger } from '../../src/log';
import { createApp } from '../../src/scim/app';
import type { Store } from '../../src/store';

type Json = Record<string, any>;
export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path?: string;
  value?: unknown;
}

export interface Ingress {
  /** The server id of the resource a test named. */
  id(name: string): string;
  /**
   * Names in the order of their server ids: the order in which the engine happens to write
   * independent siblings (members of one group, deletions approved together). Server ids are
   * random, so a test that asserts an exact sequence orders its expectation with this.
   */
  inIdOrder(names: string[]): string[];
  createUser(name: string, user: Json): Promise<Json>;
  /** PUT: the whole resource. */
  replaceUser(name: string, user: Json): Promise<Json>;
  /** PATCH: a partial change, as Entra ID sends it. */
  patchUser(name: string, operations: PatchOperation[]): Promise<void>;
  deleteUser(name: string): Promise<void>;
  deleteGroup(name: string): Promise<void>;
  getUser(name: string): Promise<Json>;
  /** The bridge extension GET reports (source, dirSyncEnabled, tokensValidFrom, graphId, syncState, lastSyncError). */
  bridge(name: string): Promise<Json>;
  createGroup(name: string, displayName: string, members: string[]): Promise<Json>;
  /** GET /Groups/{id} of a group a test named. */
  getGroup(name: string): Promise<Json>;
  /** PATCH add/remove of the members that differ from the group's current ones. */
  setMembers(name: string, members: string[]): Promise<void>;
  close(): Promise<void>;
}

export async function createIngress(deps: { config: Config; store: Store }, sourceId = 'okta'): Promise<Ingress> {
  const token = deps.config.sources.find((s) => s.id === sourceId)?.token;
  if (!token) throw new Error(`no plain token for source ${sourceId} in config.sources`);
  const app = createApp({ config: deps.config, store: deps.store, logger: createLogger('silent') });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json', Accept: 'application/scim+json' };
  const ids = new Map<string, string>();
  const members = new Map<string, string[]>();

  const id = (name: string): string => {
    const found = ids.get(name);
    if (!found) throw new Error(`no resource named ${name} was created through SCIM`);
    return found;
  };

  function expectStatus(res: request.Response, status: number, what: string): void {
    if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  }

  /** The body with the test name as externalId and a manager named by the test sent as its id. */
  function userBody(name: string, user: Json): Json {
    const body: Json = { ...user, externalId: name };
    const manager = user[ENTERPRISE]?.manager;
    if (manager?.value !== undefined) body[ENTERPRISE] = { ...user[ENTERPRISE], manager: { ...manager, value: id(manager.value) } };
    return body;
  }

  // One kept-alive connection after another, as an IdP's client keeps them, rather than a new one per request.
  const agent = new Agent({ keepAlive: true });
  const send = (method: 'post' | 'put' | 'patch' | 'get' | 'delete', path: string) => request(server)[method](`/scim/v2${path}`).agent(agent).set(headers);

  async function getUser(name: string): Promise<Json> {
    const res = await send('get', `/Users/${id(name)}`);
    expectStatus(res, 200, `GET /Users ${name}`);
    return res.body;
  }

  return {
    id,
    inIdOrder: (names) => [...names].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0)),
    getUser,
    async createUser(name, user) {
      if (ids.has(name)) throw new Error(`${name} already created`);
      const res = await send('post', '/Users').send(userBody(name, user));
      expectStatus(res, 201, `POST /Users ${name}`);
      ids.set(name, res.body.id);
      return res.body;
    },
    async replaceUser(name, user) {
      const res = await send('put', `/Users/${id(name)}`).send(userBody(name, user));
      expectStatus(res, 200, `PUT /Users ${name}`);
      return res.body;
    },
    async patchUser(name, operations) {
      const res = await send('patch', `/Users/${id(name)}`).send({ schemas: [PATCH_OP], Operations: operations });
      expectStatus(res, 204, `PATCH /Users ${name}`);
    },
    async deleteUser(name) {
      const res = await send('delete', `/Users/${id(name)}`);
      expectStatus(res, 204, `DELETE /Users ${name}`);
    },
    async deleteGroup(name) {
      const res = await send('delete', `/Groups/${id(name)}`);
      expectStatus(res, 204, `DELETE /Groups ${name}`);
    },
    async bridge(name) {
      return (await getUser(name))[BRIDGE_USER_SCHEMA];
    },
    async createGroup(name, displayName, memberNames) {
      if (ids.has(name)) throw new Error(`${name} already created`);
      const body = { schemas: [CORE_GROUP], externalId: name, displayName, members: memberNames.map((m) => ({ value: id(m) })) };
      const res = await send('post', '/Groups').send(body);
      expectStatus(res, 201, `POST /Groups ${name}`);
      ids.set(name, res.body.id);
      members.set(name, [...memberNames]);
      return res.body;
    },
    async getGroup(name) {
      const res = await send('get', `/Groups/${id(name)}`);
      expectStatus(res, 200, `GET /Groups ${name}`);
      return res.body;
    },
    async setMembers(name, memberNames) {
      const current = members.get(name) ?? [];
      const add = memberNames.filter((m) => !current.includes(m));
      const remove = current.filter((m) => !memberNames.includes(m));
      const operations: PatchOperation[] = [
        ...(add.length ? [{ op: 'add' as const, path: 'members', value: add.map((m) => ({ value: id(m) })) }] : []),
        ...remove.map((m) => ({ op: 'remove' as const, path: `members[value eq "${id(m)}"]` })),
      ];
      if (!operations.length) return;
      const res = await send('patch', `/Groups/${id(name)}`).send({ schemas: [PATCH_OP], Operations: operations });
      expectStatus(res, 204, `PATCH /Groups ${name}`);
      members.set(name, [...memberNames]);
    },
    // Idempotent: a test's afterEach may close a harness an earlier test closed already.
    close: () => {
      agent.destroy();
      return server.listening ? new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))) : Promise.resolve();
    },
  };
}
