// A tiny HTTPS stand-in for a Graph tenant, for client tests: OIDC discovery and a client-credentials
// token endpoint (what @azure/identity / MSAL call), and /v1.0 routes answered by a test's handler.
// Every request is recorded with its headers and body.
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificates } from '../../../src/simulator/certs';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type Handler = (req: RecordedRequest) => Reply | undefined;

export interface TlsGraphServer {
  url: string;
  caFile: string;
  caPem: string;
  requests: RecordedRequest[];
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export const ACCESS_TOKEN = 'test-access-token-0123456789';

// The simulator's own throwaway CA and 127.0.0.1 server certificate.
async function certificates() {
  return makeCertificates(mkdtempSync(join(tmpdir(), 'graph-client-test-ca-')));
}

function oidc(base: string, tenant: string) {
  return {
    issuer: `${base}/${tenant}/v2.0`,
    authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
    jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
    end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
    response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
  };
}

export async function startTlsGraphServer(): Promise<TlsGraphServer> {
  const { caPem, certPem, keyPem } = await certificates();
  const requests: RecordedRequest[] = [];
  let handler: Handler = () => undefined;
  let base = '';
  const server: Server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(rec);
      const send = (r: Reply) => {
        const text = r.body === undefined ? '' : JSON.stringify(r.body);
        res.writeHead(r.status, { ...(text ? { 'content-type': 'application/json' } : {}), ...(r.headers ?? {}) });
        res.end(text);
      };
      const discovery = rec.url.match(/^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration/);
      if (discovery) return send({ status: 200, body: oidc(base, discovery[1]) });
      if (/^\/[^/]+\/oauth2\/v2\.0\/token/.test(rec.url)) {
        const form = new URLSearchParams(rec.body);
        const assertion = form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' && form.get('client_assertion');
        if (!assertion && form.get('client_secret') !== 'correct-horse-battery-staple') {
          return send({ status: 401, body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' } });
        }
        return send({ status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: ACCESS_TOKEN } });
      }
      send(handler(rec) ?? { status: 404, body: { error: { code: 'Request_ResourceNotFound', message: `no route for ${rec.method} ${rec.url}` } } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'graph-client-test-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, caPem);
  return {
    url: base,
    caFile,
    caPem,
    requests,
    handle(h) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
