// The token side of the simulator: an RS256 key, client-credentials token issuance, OIDC discovery
// and JWKS, and verification of the bearer tokens Graph requests carry. Messages follow Entra's
// AADSTS errors and Graph's InvalidAuthenticationToken answers.
import { generateKeyPairSync, randomUUID, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { GraphError } from './errors';

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';

export interface AppRegistration {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  roles: string[];
  /** Directory role template ids (the wids claim). */
  wids: string[];
}

export interface TokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  appid: string;
  tid: string;
  roles: string[];
  wids: string[];
  oid: string;
  sub: string;
  idtyp: 'app';
  ver: '1.0';
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export interface TokenService {
  discovery(authorityHost: string, tenant: string): Record<string, unknown>;
  jwks(): Record<string, unknown>;
  issue(form: URLSearchParams, tenant: string): { status: number; body: Record<string, unknown> };
  verifyBearer(authorization: string | undefined): TokenClaims;
  /** What an admin consents to afterwards: tokens issued from now on carry these. */
  setGrant(roles: string[], wids?: string[]): void;
}

function aadError(status: number, error: string, code: number, description: string) {
  const now = new Date();
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${now.toISOString().replace('T', ' ').slice(0, 19)}Z`,
      error_codes: [code],
      timestamp: now.toISOString().replace('T', ' ').slice(0, 19) + 'Z',
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
    },
  };
}

const secretMatches = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

// Entra signs every tenant's tokens with the same published keys (the tenant-independent
// /common/discovery/v2.0/keys); a token's tenant is its tid and iss, which verifyBearer checks. So one
// key per process serves every simulator in it, and an RSA key is generated once, not at each start:
// at the first token issued, verified or published (0.1 to 0.5 s of CPU), so a simulator starts
// and a bridge prints its banner without waiting for it, and a start that fails or never sees a token
// (a taken port, `graph-sim` answering 401) does not pay for it.
let signingKey: { privateKey: KeyObject; publicKey: KeyObject; kid: string } | undefined;
function processSigningKey() {
  signingKey ??= { ...generateKeyPairSync('rsa', { modulusLength: 2048 }), kid: randomUUID() };
  return signingKey;
}

export function createTokenService(app: AppRegistration, lifetimeSeconds = 3599): TokenService {
  const servicePrincipalId = randomUUID();
  const verified = new Map<string, TokenClaims>();

  function signToken(claims: TokenClaims): string {
    const { privateKey, kid } = processSigningKey();
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid }));
    const payload = b64url(JSON.stringify(claims));
    const signature = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), privateKey);
    return `${header}.${payload}.${b64url(signature)}`;
  }

  function issue(form: URLSearchParams, tenant: string) {
    if (tenant !== app.tenantId)
      return aadError(
        400,
        'invalid_request',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    if (form.get('grant_type') !== 'client_credentials') return aadError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    const clientId = form.get('client_id') ?? '';
    if (clientId !== app.clientId)
      return aadError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`);
    const secret = form.get('client_secret');
    if (!secret || !secretMatches(secret, app.clientSecret))
      return aadError(
        401,
        'invalid_client',
        7000215,
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
      );
    const scope = form.get('scope') ?? '';
    if (scope.split(' ').filter(Boolean).join(' ') !== `${GRAPH_RESOURCE}/.default`)
      return aadError(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    const now = Math.floor(Date.now() / 1000);
    const claims: TokenClaims = {
      aud: GRAPH_RESOURCE,
      iss: `https://sts.windows.net/${app.tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + lifetimeSeconds,
      appid: app.clientId,
      tid: app.tenantId,
      roles: [...app.roles],
      wids: [...app.wids],
      oid: servicePrincipalId,
      sub: servicePrincipalId,
      idtyp: 'app',
      ver: '1.0',
    };
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: lifetimeSeconds, ext_expires_in: lifetimeSeconds, access_token: signToken(claims) },
    };
  }

  function verifyBearer(authorization: string | undefined): TokenClaims {
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : '';
    if (!token) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    let claims = verified.get(token);
    if (!claims) {
      claims = decodeAndVerify(token, processSigningKey().publicKey);
      if (verified.size > 10_000) verified.clear();
      verified.set(token, claims);
    }
    if (claims.exp * 1000 <= Date.now()) throw new GraphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    if (claims.aud !== GRAPH_RESOURCE || claims.tid !== app.tenantId)
      throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
    return claims;
  }

  function discovery(authorityHost: string, tenant: string) {
    const base = `${authorityHost}/${tenant}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
    };
  }

  const jwks = () => {
    const { publicKey, kid } = processSigningKey();
    const jwk = publicKey.export({ format: 'jwk' });
    return { keys: [{ kty: 'RSA', use: 'sig', kid, n: jwk.n, e: jwk.e }] };
  };

  function setGrant(roles: string[], wids?: string[]) {
    app.roles = [...roles];
    if (wids) app.wids = [...wids];
  }

  return { discovery, jwks, issue, verifyBearer, setGrant };
}

function decodeAndVerify(token: string, publicKey: KeyObject): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new GraphError(401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed, there are no dots (.).');
  const ok = verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2], 'base64url'));
  if (!ok) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    throw new GraphError(401, 'InvalidAuthenticationToken', 'IDX14102: Unable to decode the payload as Base64Url encoded string.');
  }
}
