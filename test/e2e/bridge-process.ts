// A bridge process that a test kills with SIGKILL and restarts many times (test/fixtures/e2e/bridge-child.js,
// the SCIM app and the engine over a config file), with the next process always started ahead: it loads
// its modules while the current one runs and reads its config, and opens the database, only once the test
// starts it. A restart then costs what a restart of the bridge costs after its code is loaded (the store
// opened, the port listening), not the module loading of a new Node process each time.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './cli-process';

export function restartableBridge() {
  const spawnSpare = () => {
    const p = spawn(process.execPath, [join(ROOT, 'test/fixtures/e2e/bridge-child.js')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    // Reaped if the test ends while it waits: no output to read before it is started.
    p.stdin!.on('error', () => undefined);
    return p;
  };
  let spare: ChildProcess | null = null;
  let proc: ChildProcess | null = null;
  const self = {
    port: 0,
    /** Starts the process waiting ahead on this config and resolves once it listens; rejects if it exits other than by SIGKILL. */
    start(configFile: string): Promise<void> {
      const p = spare ?? spawnSpare();
      spare = spawnSpare();
      proc = p;
      return new Promise((up, fail) => {
        let buf = '';
        p.stdout!.on('data', (d) => {
          buf += String(d);
          const m = /\{"port":(\d+)\}/.exec(buf);
          if (m) {
            self.port = Number(m[1]);
            up();
          }
        });
        p.once('exit', (code, signal) => (signal === 'SIGKILL' ? undefined : fail(new Error(`bridge exited ${code} ${signal}`))));
        p.stdin!.end(`${configFile}\n`);
      });
    },
    /** SIGKILL, resolved once the process is gone. */
    kill(): Promise<void> {
      const p = proc!;
      return new Promise((done) => {
        p.once('exit', () => done());
        p.kill('SIGKILL');
      });
    },
    /** Kills the running process and the one waiting (afterAll). */
    async stop(): Promise<void> {
      for (const p of [proc, spare])
        if (p && p.exitCode === null && p.signalCode === null) await new Promise((done) => (p.once('exit', done), p.kill('SIGKILL')));
      spare = null;
    },
  };
  return self;
}
