// A throwaway CA and a server certificate for 127.0.0.1/localhost signed by it, made at the first start
// of a process and kept for the simulators it starts later (making them is about 0.1 s of CPU each time).
// Clients trust the CA (written to each simulator's caFile), exactly as they would trust a corporate proxy's CA.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Selfsigned from 'selfsigned';

// selfsigned (and the ASN.1 libraries under it, about 0.5 s to load) is loaded by the first start, not
// by every process that imports the simulator, e.g. a one-shot command that never starts one. require,
// since tsconfig's module node20 compiles a dynamic import() to an ESM import.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy load, see above
const generate: typeof Selfsigned.generate = (...args) => (require('selfsigned') as typeof Selfsigned).generate(...args);

export interface SimulatorCertificates {
  caPem: string;
  certPem: string;
  keyPem: string;
  caFile: string;
}

const validity = () => {
  const notBeforeDate = new Date(Date.now() - 60_000);
  return { notBeforeDate, notAfterDate: new Date(notBeforeDate.getTime() + 30 * 24 * 3600 * 1000) };
};

let made: Promise<Omit<SimulatorCertificates, 'caFile'>> | undefined;

export async function makeCertificates(dataDir: string): Promise<SimulatorCertificates> {
  made ??= generatePair();
  made.catch(() => (made = undefined));
  const { caPem, certPem, keyPem } = await made;
  mkdirSync(dataDir, { recursive: true });
  const caFile = join(dataDir, `graph-sim-ca-${process.pid}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.pem`);
  writeFileSync(caFile, caPem);
  return { caPem, certPem, keyPem, caFile };
}

async function generatePair(): Promise<Omit<SimulatorCertificates, 'caFile'>> {
  const ca = await generate([{ name: 'commonName', value: 'Graph Simulator Test CA' }], {
    ...validity(),
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    ...validity(),
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { caPem: ca.cert, certPem: server.cert, keyPem: server.private };
}
