// What the request log keeps of a body: passwords and secrets become a fixed marker, so the log
// (GET /_sim/requests, RequestLog.list) can be read and shared without learning any. A test that
// has to know which password was set reads the simulated tenant (state.directory), as a real
// tenant would check a sign-in, not the log.
export const REDACTED = '[redacted]';

// Keys whose string value is a secret wherever they appear (passwordProfile.password, a client
// secret, an application's passwordCredentials[].secretText or keyCredentials[].key, tokens).
const SECRET_KEYS =
  /^(password|newPassword|currentPassword|secret|secretText|clientSecret|client_secret|key|privateKey|client_assertion|assertion|access_token|refresh_token|id_token|authorization|token)$/i;
// Values that are secrets by their shape whatever the key: a bearer credential or a JWT.
const SECRET_VALUE = /^\s*(bearer|basic)\s+[\w.~+/=-]{16,}\s*$|^eyJ[\w-]+\.[\w-]+\.[\w-]*$/i;

export function redactBody(value: unknown, depth = 0): unknown {
  if (depth > 64) return REDACTED;
  if (typeof value === 'string') return SECRET_VALUE.test(value) ? REDACTED : value;
  if (Array.isArray(value)) return value.map((v) => redactBody(v, depth + 1));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SECRET_KEYS.test(k) && v !== null && v !== undefined && typeof v !== 'boolean' ? REDACTED : redactBody(v, depth + 1);
  return out;
}
