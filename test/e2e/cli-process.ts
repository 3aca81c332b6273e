// Spawning the real `scim-graph-bridge` command as an operator runs it: `serve` in the background
// (resolved once it printed its URLs), one-shot commands to completion, and polling without fixed sleeps.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const BIN = join(ROOT, 'bin/scim-graph-bridge.js');

export function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, BRIDGE_LOG_LEVEL: 'warn', ...extra };
}

export interface Served {
  child: ChildProcess;
  out: () => string;
  scimUrl: string;
  /** SIGTERM, resolved with the exit code. */
  stop(): Promise<number | null>;
}

const started: ChildProcess[] = [];

/** Kills what `serve` started and is still running (afterEach). */
export function killServed(): void {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

// The last line `serve` prints: the Graph target, or with the embedded simulator its inspection token.
export const bannerDone = (o: string) => /^(Graph: (?!embedded).*|Simulator inspection token .*)$/m.test(o);

/** Starts `serve` and resolves with what it printed once its whole banner (SCIM URL to Graph target) is out. */
export async function serve(env: Record<string, string>): Promise<Served> {
  const { child, out, match, stop } = await spawnUntil(['serve'], env, (o) => bannerDone(o) && /^SCIM base URL: (\S+)$/m.exec(o));
  return { child, out, scimUrl: match[1], stop };
}

/**
 * Starts a long-running command (killed by killServed) and resolves once `ready` finds what it waits
 * for in the command's output (stdout and stderr); rejects if the command exits first.
 */
export function spawnUntil(
  args: string[],
  env: Record<string, string>,
  ready: (out: string) => RegExpExecArray | null | false,
): Promise<{ child: ChildProcess; out: () => string; match: RegExpExecArray; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((done, fail) => {
    const check = () => {
      const m = ready(out);
      if (!m) return;
      child.stdout!.off('data', check);
      child.stderr!.off('data', check);
      child.off('exit', early);
      done({
        child,
        out: () => out,
        match: m,
        stop: () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    };
    const early = (code: number | null) => fail(new Error(`${args[0]} exited ${code}: ${out}`));
    child.stdout!.on('data', (d) => (out += String(d)));
    child.stderr!.on('data', (d) => (out += String(d)));
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', early);
  });
}

export function cli(args: string[], env: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Polls `check` (every 20 ms, never a fixed sleep) until it answers something other than undefined
 * or false, and resolves with that; after `ms` fails with what was awaited.
 */
export async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { what = 'condition', ms = 30_000 }: { what?: string; ms?: number } = {},
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
