// src/graph's client as the SyncGraph the engine reasons with: HTTP answers as OpResponse, and
// the app roles of the access token for preflight (decoded from the JWT's `roles` claim; the
// signature is not checked: the token comes straight from the authority over TLS).
import type { GraphClient } from '../graph/client';
import type { SyncGraph } from './graph-port';
import type { GraphOp, OpResponse } from './ops';

export function rolesOfJwt(token: string): string[] | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(claims.roles) ? claims.roles.map(String) : [];
  } catch {
    return null;
  }
}

export function adaptGraphClient(client: GraphClient): SyncGraph {
  return {
    async send(op) {
      const res = await client.request(op.method, op.url, op.body, op.headers);
      return { id: op.id ?? '1', status: res.status, headers: res.headers, body: res.body };
    },
    async batch(ops: GraphOp[]): Promise<OpResponse[]> {
      const results = await client.batch(
        ops.map((op) => ({
          id: op.id,
          method: op.method,
          url: op.url,
          ...(op.body !== undefined ? { body: op.body } : {}),
          ...(op.headers ? { headers: op.headers } : {}),
          ...(op.dependsOn?.length ? { dependsOn: op.dependsOn } : {}),
        })),
      );
      return results.map((r) => ({ id: r.id, status: r.status, headers: r.headers, body: r.body }));
    },
    // The client's own token (cached by @azure/identity): no second credential, no second token.
    async tokenRoles() {
      const token = await client.accessToken?.();
      return token ? rolesOfJwt(token) : null;
    },
  };
}

export function isSyncGraph(value: unknown): value is SyncGraph {
  return typeof (value as SyncGraph)?.send === 'function' && typeof (value as SyncGraph)?.tokenRoles === 'function';
}
