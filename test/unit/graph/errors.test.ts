// Graph error classification: code and message from Graph's body, retryable for 429/5xx/network,
// retryAfterMs from Retry-After seconds or HTTP date, and no secret in any message.
import { BridgeError } from '../../../src/errors';
import {
  classifyGraphError,
  classifyGraphResponse,
  classifyNetworkError,
  classifyThrown,
  isRetryableFailure,
  parseRetryAfter,
  redactSecrets,
} from '../../../src/graph/errors';

const body = (code: string, message: string) => ({ error: { code, message, innerError: { date: '2025-03-01T12:00:00', 'request-id': 'r-1' } } });
const NOW = Date.parse('2025-03-01T12:00:00Z');

test.each([
  [
    400,
    'Request_BadRequest',
    'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
    false,
  ],
  [400, 'Request_BadRequest', 'Another object with the same value for property userPrincipalName already exists.', false],
  [403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.', false],
  [404, 'Request_ResourceNotFound', "Resource 'x' does not exist or one of its queried reference-property objects are not present.", false],
  [409, 'ObjectConflict', 'Another object with the same value for property proxyAddresses already exists.', false],
  [429, 'TooManyRequests', 'Too many requests.', true],
  [500, 'InternalServerError', 'Internal error.', true],
  [503, 'ServiceUnavailable', 'Service unavailable.', true],
  [504, 'GatewayTimeout', 'Gateway timeout.', true],
])("HTTP %i %s -> BridgeError with Graph's code and message, retryable %p", (status, code, message, retryable) => {
  const err = classifyGraphError({ status, body: body(code, message) });
  expect(err).toBeInstanceOf(BridgeError);
  expect({ status: err.status, code: err.code, message: err.message, retryable: err.retryable }).toEqual({ status, code, message, retryable });
});

test('Retry-After in seconds and as an HTTP date', () => {
  expect(classifyGraphError({ status: 429, headers: { 'Retry-After': '12' }, body: body('TooManyRequests', 'x') }).retryAfterMs).toBe(12_000);
  expect(
    classifyGraphError({ status: 503, headers: { 'retry-after': 'Sat, 01 Mar 2025 12:00:30 GMT' }, body: body('ServiceUnavailable', 'x') }, [], NOW)
      .retryAfterMs,
  ).toBe(30_000);
  expect(parseRetryAfter('Sat, 01 Mar 2025 11:00:00 GMT', NOW)).toBe(0);
  expect(parseRetryAfter('soon')).toBeUndefined();
  expect(classifyGraphError({ status: 500, body: body('x', 'y') }).retryAfterMs).toBeUndefined();
});

test('a Headers object works as well as a plain record', () => {
  expect(classifyGraphError({ status: 429, headers: new Headers({ 'Retry-After': '2' }), body: null }).retryAfterMs).toBe(2000);
});

test('a non-JSON or empty error body still yields a clear code and message', () => {
  expect(classifyGraphError({ status: 502, body: '<html>Bad gateway</html>' })).toMatchObject({
    code: 'HTTP502',
    message: '<html>Bad gateway</html>',
    retryable: true,
  });
  expect(classifyGraphError({ status: 400, body: null })).toMatchObject({ code: 'HTTP400', message: 'Graph answered HTTP 400', retryable: false });
  expect(classifyGraphError({ status: 401, body: JSON.stringify(body('InvalidAuthenticationToken', 'Access token has expired.')) })).toMatchObject({
    code: 'InvalidAuthenticationToken',
    message: 'Access token has expired.',
  });
});

test('network failures are retryable NetworkErrors naming the cause', () => {
  const refused = Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }),
  });
  expect(classifyNetworkError(refused)).toMatchObject({
    code: 'NetworkError',
    status: 503,
    retryable: true,
    message: 'Graph unreachable (ECONNREFUSED): connect ECONNREFUSED 10.0.0.1:443',
  });
  const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
  expect(classifyNetworkError(timeout)).toMatchObject({ code: 'NetworkError', retryable: true, message: expect.stringContaining('ETIMEDOUT') });
});

test('credential failures: refused is permanent, an unreachable authority is retryable', () => {
  const refused = Object.assign(new Error('invalid_client: AADSTS7000215: Invalid client secret provided.'), { name: 'AuthenticationRequiredError' });
  expect(classifyNetworkError(refused)).toMatchObject({ code: 'AuthenticationFailed', status: 401, retryable: false });
  const throttled = Object.assign(new Error('throttled'), { name: 'AuthenticationError', statusCode: 429 });
  expect(classifyNetworkError(throttled).retryable).toBe(true);
  const unreachable = Object.assign(new Error('endpoints_resolution_error'), { name: 'CredentialUnavailableError' });
  expect(classifyNetworkError(unreachable)).toMatchObject({ code: 'AuthorityUnreachable', retryable: true });
});

test('secrets never reach a message', () => {
  const secret = 'S3cr3t~Value_From-Config';
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJl';
  const err = classifyGraphError(
    { status: 400, body: body('x', `bad request client_secret=${secret}&scope=a Authorization: Bearer ${jwt} "password":"hunter2-long"`) },
    [secret],
  );
  expect(err.message).not.toContain(secret);
  expect(err.message).not.toContain(jwt);
  expect(err.message).not.toContain('hunter2-long');
  expect(redactSecrets(`x ${secret} y`, [secret])).toBe('x [redacted] y');
  const net = classifyNetworkError(new Error(`token request with ${secret} failed`), [secret]);
  expect(net.message).not.toContain(secret);
});

test('one verdict for every Graph answer: 408, 424, 429 and 5xx retryable, other 4xx final, 2xx ok', () => {
  expect(classifyGraphResponse({ status: 201, body: { id: 'u1' } })).toEqual({ ok: true, status: 201, body: { id: 'u1' } });
  expect(classifyGraphResponse({ status: 408, body: body('RequestTimeout', 'slow') })).toEqual({
    ok: false,
    status: 408,
    code: 'RequestTimeout',
    message: 'slow',
    retryable: true,
    throttled: false,
  });
  expect(classifyGraphResponse({ status: 424, body: body('FailedDependency', 'dep') })).toMatchObject({ retryable: true, throttled: false });
  expect(classifyGraphResponse({ status: 429, headers: { 'Retry-After': '3' }, body: body('TooManyRequests', 'x') })).toMatchObject({
    retryable: true,
    throttled: true,
    retryAfterMs: 3000,
  });
  expect(classifyGraphResponse({ status: 404, body: body('Request_ResourceNotFound', 'gone') })).toMatchObject({
    code: 'Request_ResourceNotFound',
    retryable: false,
  });
});

test('a thrown failure keeps a verdict already made; anything else is a network failure', () => {
  const batch = classifyGraphError({ status: 400, body: body('BadRequest', 'bad $batch') });
  expect(classifyThrown(batch)).toEqual({ ok: false, status: 400, code: 'BadRequest', message: 'bad $batch', retryable: false, throttled: false });
  expect(classifyThrown(new TypeError('fetch failed'))).toEqual({
    ok: false,
    status: 503,
    code: 'NetworkError',
    message: 'Graph unreachable (NetworkError): fetch failed',
    retryable: true,
    throttled: false,
  });
  expect([isRetryableFailure(batch), isRetryableFailure(new Error('socket hang up'))]).toEqual([false, true]);
});
