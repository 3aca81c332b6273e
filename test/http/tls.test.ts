// The bridge serving SCIM and admin over HTTPS itself (tls.certFile / tls.keyFile), with a
// self-signed certificate: the certificate served, a SCIM request over TLS, plain HTTP refused,
// and the certificate reloaded on SIGHUP and when the files change (a broken pair keeps the old one).
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { generate } from 'selfsigned';
import { Agent, request } from 'undici';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { type Bridge, startBridge } from '../../src/main';
import { until } from '../e2e/cli-process';

const SOURCE_TOKEN = 'tls-test-source-token-0123456789';
let dir: string;
let bridge: Bridge | undefined;
afterEach(async () => {
  await bridge?.close();
  bridge = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function selfSigned(cn: string): Promise<{ cert: string; key: string }> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: 'commonName', value: cn }], {
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 24 * 3600 * 1000),
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  return { cert: pems.cert, key: pems.private };
}

/** The subject CN the server presents, trusting only `ca`. */
function servedCn(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: undefined }, () => {
      const cn = String(socket.getPeerCertificate().subject.CN);
      socket.end();
      resolve(cn);
    });
    socket.once('error', reject);
  });
}

async function httpsJson(port: number, ca: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const dispatcher = new Agent({ connect: { ca } });
  const res = await request(`https://127.0.0.1:${port}${path}`, { headers, dispatcher });
  const body = await res.body.json();
  await dispatcher.close();
  return { status: res.statusCode, body };
}

async function startWith(first: { cert: string; key: string }): Promise<{ port: number; certFile: string; keyFile: string }> {
  dir = mkdtempSync(join(tmpdir(), 'bridge-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, first.cert);
  writeFileSync(keyFile, first.key, { mode: 0o600 });
  const config = loadConfig({
    env: { BRIDGE_TLS_CERT_FILE: certFile, BRIDGE_TLS_KEY_FILE: keyFile },
    overrides: { port: 0, host: '127.0.0.1', database: join(dir, 'bridge.sqlite'), sources: [{ id: 'okta', token: SOURCE_TOKEN }], logLevel: 'silent' },
  });
  bridge = await startBridge(config, { logger: createLogger('silent') });
  const port = Number(new URL(bridge.scimUrl).port);
  return { port, certFile, keyFile };
}

it('serves SCIM and admin over HTTPS with the configured certificate; plain HTTP gets no answer', async () => {
  const first = await selfSigned('bridge-one');
  const { port } = await startWith(first);
  expect(bridge!.scimUrl).toBe(`https://127.0.0.1:${port}/scim/v2`);
  expect(await servedCn(port, first.cert)).toBe('bridge-one');
  const list = await httpsJson(port, first.cert, '/scim/v2/Users', { authorization: `Bearer ${SOURCE_TOKEN}` });
  expect(list).toEqual({
    status: 200,
    body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] },
  });
  expect((await httpsJson(port, first.cert, '/healthz')).status).toBe(200);
  const plain = await new Promise<string>((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz' }, (res) => resolve(`answered ${res.statusCode}`));
    req.once('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code}`));
    req.end();
  });
  expect(plain).toMatch(/^error /);
});

it('reloads the certificate on SIGHUP, and when the files are replaced; a pair that does not load keeps the current one', async () => {
  const first = await selfSigned('bridge-one');
  const second = await selfSigned('bridge-two');
  const third = await selfSigned('bridge-three');
  const { port, certFile, keyFile } = await startWith(first);
  // SIGHUP: the new pair is served to new connections at once.
  writeFileSync(certFile, second.cert);
  writeFileSync(keyFile, second.key);
  process.emit('SIGHUP', 'SIGHUP');
  expect(await servedCn(port, second.cert)).toBe('bridge-two');
  // A certificate with another certificate's key does not load: logged, and the served one stays.
  writeFileSync(certFile, third.cert);
  expect(bridge!.tls!.reload('test')).toBe(false);
  expect(await servedCn(port, second.cert)).toBe('bridge-two');
  // Replaced by rename, as renewal tools do: picked up without a signal.
  writeFileSync(`${keyFile}.new`, third.key);
  renameSync(`${keyFile}.new`, keyFile);
  await until(async () => (await servedCn(port, third.cert).catch(() => '')) === 'bridge-three', { what: 'the new certificate served', ms: 20_000 });
});

it('refuses to start with only one of certFile and keyFile, or with files that do not load', async () => {
  expect(() => loadConfig({ env: { BRIDGE_TLS_CERT_FILE: '/x/cert.pem' } })).toThrow('tls: give both certFile and keyFile, or neither');
  dir = mkdtempSync(join(tmpdir(), 'bridge-tls-'));
  const a = await selfSigned('a');
  const b = await selfSigned('b');
  writeFileSync(join(dir, 'cert.pem'), a.cert);
  writeFileSync(join(dir, 'key.pem'), b.key);
  const config = loadConfig({
    env: {},
    overrides: {
      port: 0,
      host: '127.0.0.1',
      database: join(dir, 'bridge.sqlite'),
      sources: [{ id: 'okta', token: SOURCE_TOKEN }],
      logLevel: 'silent',
      tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') },
    },
  });
  await expect(startBridge(config, { logger: createLogger('silent') })).rejects.toThrow(
    /^tls: .*cert\.pem and .*key\.pem do not load as a certificate and its key/,
  );
});
