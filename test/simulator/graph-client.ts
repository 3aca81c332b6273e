// The real client stack the bridge uses against a tenant, pointed at a simulator: @azure/identity's
// ClientSecretCredential against authorityHost, and @microsoft/microsoft-graph-client with the
// Authorization header allowed for 127.0.0.1 (customHosts) and the simulator's CA trusted.
import { ClientSecretCredential } from '@azure/identity';
import { Client } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { Agent, request as undiciRequest } from 'undici';
import type { RunningSimulator } from '../../src/simulator';

export interface GraphErrorLike {
  statusCode: number;
  code: string;
  message: string;
  body: string;
  headers?: Headers;
}

export function credentialFor(sim: RunningSimulator, secret = sim.clientSecret): ClientSecretCredential {
  return new ClientSecretCredential(sim.tenantId, sim.clientId, secret, {
    authorityHost: sim.authorityHost,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: sim.caPem },
  } as ConstructorParameters<typeof ClientSecretCredential>[3]);
}

export function graphClientFor(sim: RunningSimulator, credential = credentialFor(sim)): Client {
  const authProvider = new TokenCredentialAuthenticationProvider(credential, { scopes: ['https://graph.microsoft.com/.default'] });
  return Client.initWithMiddleware({
    authProvider,
    baseUrl: sim.url,
    customHosts: new Set(['127.0.0.1']),
    // The dispatcher is undici-specific; global fetch accepts it though RequestInit does not declare it.
    fetchOptions: { dispatcher: new Agent({ connect: { ca: sim.caPem } }) } as unknown as RequestInit,
  });
}

/** The Graph error body a failed client call carried (the client keeps the "error" member as GraphError.body). */
export async function graphError(promise: Promise<unknown>): Promise<{ status: number; body: any; headers?: Headers }> {
  try {
    await promise;
  } catch (err) {
    const e = err as GraphErrorLike;
    return { status: e.statusCode, body: { error: JSON.parse(e.body) }, headers: e.headers };
  }
  throw new Error('expected the Graph call to fail');
}

/** Graph's innerError: date without milliseconds, request-id and client-request-id GUIDs. */
export const innerError = {
  date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
  'request-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
  'client-request-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
};

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

const agents = new WeakMap<RunningSimulator, Agent>();
const agentFor = (sim: RunningSimulator) => {
  if (!agents.has(sim)) agents.set(sim, new Agent({ connect: { ca: sim.caPem } }));
  return agents.get(sim)!;
};

export async function tokenFor(sim: RunningSimulator): Promise<string> {
  return (await credentialFor(sim).getToken('https://graph.microsoft.com/.default'))!.token;
}

/** A plain HTTPS request (no client retry middleware), with a bearer token unless token is null. */
export async function raw(sim: RunningSimulator, method: string, path: string, body?: unknown, token?: string | null): Promise<RawResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token === undefined) token = await tokenFor(sim);
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await undiciRequest(`${sim.url}${path}`, {
    method: method as 'GET',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher: agentFor(sim),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}
