// Packaging, checked without a container engine (none on these machines): the Dockerfile is parsed
// for what the image must have (node:20-bookworm-slim, a non-root USER, the data VOLUME, HEALTHCHECK,
// EXPOSE, ENTRYPOINT/CMD), then its entry command runs here as the image would run it (its ENV, /data
// moved to a temporary directory) and its HEALTHCHECK command must pass against it. `backup` copies
// the database of that running bridge, and the restore steps of docs/operations.md bring it back.
// The systemd unit is checked by systemd-analyze. `sources add` and `backup` run in-process through
// the CLI's main() (cli.test spawns the one-shot commands), against the spawned entry command's database.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { cliIn } from './cli-in-process';
import { bannerDone } from './cli-process';

jest.setTimeout(120_000);

const ROOT = resolve(__dirname, '../..');
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions of the final stage (continuations joined, comments dropped). */
function finalStage(text: string): { from: string; instructions: Instruction[] } {
  const joined = text.replace(/\\\n/g, ' ');
  const all = joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/.exec(l)!;
      return { op: m[1].toUpperCase(), args: m[2].trim() };
    });
  const lastFrom = all.map((i) => i.op).lastIndexOf('FROM');
  return { from: all[lastFrom].args, instructions: all.slice(lastFrom + 1) };
}

const one = (ins: Instruction[], op: string) => {
  const found = ins.filter((i) => i.op === op);
  expect(found.length).toBeGreaterThanOrEqual(1);
  return found[found.length - 1].args;
};

/** ENV K=V K2="V 2" */
function envOf(ins: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of ins.filter((x) => x.op === 'ENV')) for (const [, k, v] of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[k] = v.replace(/^"|"$/g, '');
  return env;
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

const stage = finalStage(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-packaging-'));
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('the Dockerfile builds on node:20-bookworm-slim and runs as a non-root user with a data volume, a healthcheck and a port', () => {
  expect(stage.from).toBe('node:20-bookworm-slim');
  const ins = stage.instructions;
  const user = one(ins, 'USER');
  expect(user).not.toMatch(/^(root|0)(:|$)/);
  expect(JSON.parse(one(ins, 'VOLUME'))).toEqual(['/data']);
  expect(one(ins, 'EXPOSE')).toBe('8080');
  expect(one(ins, 'HEALTHCHECK')).toMatch(/^(--\S+\s+)*CMD \[/);
  expect(JSON.parse(one(ins, 'ENTRYPOINT'))).toEqual(['node', 'bin/scim-graph-bridge.js']);
  expect(JSON.parse(one(ins, 'CMD'))).toEqual(['serve']);
  expect(envOf(ins)).toMatchObject({ BRIDGE_DATABASE: '/data/bridge.sqlite', BRIDGE_PORT: '8080', BRIDGE_HOST: '0.0.0.0' });
  // USER comes after everything that needs root, and the volume belongs to that user.
  expect(ins.findIndex((i) => i.op === 'USER')).toBeGreaterThan(ins.findIndex((i) => i.op === 'RUN' && i.args.includes('chown node:node /data')));
  // Everything the entry command loads is copied in: the compiled CLI from the build stage, bin/, schemas/.
  const copied = ins.filter((i) => i.op === 'COPY').map((i) => i.args);
  for (const path of ['bin', 'schemas', 'package.json']) expect(copied.some((c) => c.split(/\s+/).includes(path))).toBe(true);
  expect(copied).toContain('--from=build /app/dist ./dist');
  expect(copied).toContain('--from=build /app/node_modules ./node_modules');
});

/** Runs the image's entry command here: WORKDIR is the repository, /data a temporary directory. */
function runEntryEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
  const imageEnv = envOf(stage.instructions);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, BRIDGE_LOG_LEVEL: 'warn' };
  for (const [k, v] of Object.entries(imageEnv)) env[k] = v.replace(/^\/data(?=\/|$)/, dataDir);
  env.BRIDGE_PORT = String(port);
  env.BRIDGE_HOST = '127.0.0.1';
  return env;
}

function runEntry(dataDir: string, port: number): { child: ChildProcess; out: () => string; env: NodeJS.ProcessEnv; serving: Promise<void> } {
  const ins = stage.instructions;
  const argv = [...JSON.parse(one(ins, 'ENTRYPOINT')), ...JSON.parse(one(ins, 'CMD'))] as string[];
  const env = runEntryEnv(dataDir, port);
  const child = spawn(argv[0] === 'node' ? process.execPath : argv[0], argv.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  // Resolved once serve printed its whole banner: it listens.
  const serving = new Promise<void>((done, fail) => {
    const seen = (d: Buffer) => {
      out += String(d);
      if (bannerDone(out)) done();
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.once('exit', (code) => fail(new Error(`the entry command exited ${code}: ${out}`)));
  });
  return { child, out: () => out, env, serving };
}

async function healthcheck(env: NodeJS.ProcessEnv): Promise<number | null> {
  const cmd = JSON.parse(one(stage.instructions, 'HEALTHCHECK').replace(/^(--\S+\s+)*CMD /, '')) as string[];
  return new Promise((done) => {
    const c = spawn(cmd[0] === 'node' ? process.execPath : cmd[0], cmd.slice(1), { env, stdio: 'ignore' });
    c.once('exit', (code) => done(code));
  });
}

/** The HEALTHCHECK passes once the entry command serves (each try is a process: started only then). */
async function untilHealthy({ env, out, serving }: { env: NodeJS.ProcessEnv; out: () => string; serving: Promise<void> }): Promise<void> {
  await serving;
  for (let i = 0; i < 300; i++) {
    if ((await healthcheck(env)) === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never healthy: ${out()}`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

test('the entry command serves, the HEALTHCHECK passes, backup copies the live database and a restore brings it back', async () => {
  const dataDir = join(dir, 'data');
  const port = await freePort();
  // A source whose token lives in the store (a minted default source gets a new token at each start).
  const env0 = runEntryEnv(dataDir, port);
  const added = await cliIn(['sources', 'add', 'okta'], env0);
  expect(added.code).toBe(0);
  const token = /^token: (\S+)$/m.exec(added.stdout)![1];
  // Before anything listens, the healthcheck fails.
  const first = runEntry(dataDir, port);
  expect(await healthcheck({ ...first.env, BRIDGE_PORT: String(await freePort()) })).toBe(1);
  await untilHealthy(first);
  const origin = `http://127.0.0.1:${port}`;
  const health = await request(origin).get('/healthz');
  expect(health.status).toBe(200);
  expect(health.body).toMatchObject({ status: 'ok', engine: { state: 'running' }, resources: { User: { synced: 0 } } });
  expect(existsSync(join(dataDir, 'bridge.sqlite'))).toBe(true);

  const auth = { Authorization: `Bearer ${token}` };
  const created = await request(origin)
    .post('/scim/v2/Users')
    .set(auth)
    .send({ schemas: [USER_SCHEMA], userName: 'ada@example.com' });
  expect(created.status).toBe(201);

  // backup while serve runs
  const backupFile = join(dir, 'backup.sqlite');
  const b = await cliIn(['backup', backupFile], first.env);
  expect(b.stderr).toBe('');
  expect(b.stdout).toMatch(new RegExp(`^backup of ${join(dataDir, 'bridge.sqlite')} written to ${backupFile} \\(\\d+ pages, schema version \\d+\\)\\n$`));
  expect(b.code).toBe(0);
  const copy = new Database(backupFile, { readonly: true });
  expect(copy.prepare('SELECT user_name FROM users').pluck().all()).toEqual(['ada@example.com']);
  copy.close();
  // An existing file is not overwritten without --force.
  const again = await cliIn(['backup', backupFile], first.env);
  expect(again.code).toBe(1);
  expect(again.stderr).toBe(`error: ${backupFile} exists; choose another file or pass --force\n`);

  // Accepted after the backup: lost by the restore, as the operator is told.
  expect(
    (
      await request(origin)
        .post('/scim/v2/Users')
        .set(auth)
        .send({ schemas: [USER_SCHEMA], userName: 'later@example.com' })
    ).status,
  ).toBe(201);
  await stop(first.child);

  // Restore (docs/operations.md): stopped bridge, remove the -wal and -shm files, copy the backup in.
  for (const suffix of ['-wal', '-shm']) rmSync(join(dataDir, `bridge.sqlite${suffix}`), { force: true });
  copyFileSync(backupFile, join(dataDir, 'bridge.sqlite'));
  const second = runEntry(dataDir, port);
  await untilHealthy(second);
  // The source added before the backup is in it, with its token.
  const list = await request(origin).get('/scim/v2/Users').set(auth);
  expect(list.status).toBe(200);
  expect(list.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['ada@example.com']);
  await stop(second.child);
});

test('the example configuration of deploy/ loads, and the compose file runs the image with it and the data volume', () => {
  const config = loadConfig({ file: join(ROOT, 'deploy/bridge.example.json'), env: {} });
  expect(config.database).toBe('/data/bridge.sqlite');
  const compose = readFileSync(join(ROOT, 'deploy/compose.yaml'), 'utf8');
  expect(compose).toMatch(/^\s+dockerfile: Dockerfile$/m);
  expect(compose).toMatch(/^\s+- bridge-data:\/data$/m);
  expect(compose).toMatch(/^\s+- \.\/bridge\.json:\/config\/bridge\.json:ro$/m);
  expect(compose).toMatch(/^\s+BRIDGE_CONFIG: \/config\/bridge\.json$/m);
  expect(compose).toMatch(/^\s+- "8080:8080"$/m);
});

test('the systemd unit passes systemd-analyze verify', () => {
  const unit = readFileSync(join(ROOT, 'deploy/scim-graph-bridge.service'), 'utf8');
  expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node bin\/scim-graph-bridge\.js serve$/m);
  expect(unit).toMatch(/^DynamicUser=yes$/m);
  expect(unit).toMatch(/^StateDirectory=scim-graph-bridge$/m);
  expect(unit).toMatch(/^Environment=BRIDGE_DATABASE=\/var\/lib\/scim-graph-bridge\/bridge\.sqlite$/m);
  const verify = spawnSync('systemd-analyze', ['verify', join(ROOT, 'deploy/scim-graph-bridge.service')], { encoding: 'utf8' });
  if (verify.error) {
    // No systemd tools on this machine: the parse above is what can be checked.
    return;
  }
  expect({ status: verify.status, stderr: verify.stderr }).toEqual({ status: 0, stderr: '' });
});
