// Runs one HTTP server in its own child process, so that its resident memory is its own and it
// competes with the load generator on equal terms with the other server under test. The child
// entry point sends {port} over IPC once listening; RSS is read from /proc (Linux) or asked over IPC.
// A .ts entry runs through tsx; a .js entry (compileEntries) runs on plain node, as a deployed bridge does.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import path from 'node:path';

const runTs = path.resolve(__dirname, '../../bin/run-ts.js');

/**
 * Compiles TypeScript entry points of the checkout at `root`, and all they import, with tsc and that
 * checkout's tsconfig.json into `root/.tmp/bench-build`, and returns the compiled entries. A server
 * measured for its speed or memory runs that way: tsx's loader (its esbuild worker thread, its
 * getter-based module bindings) cost a bridge under tsx about 15% of its CPU per filtered GET and
 * 20 MB of RSS against the same code compiled, which `npm start` runs. The `schemas` folder src
 * reads beside itself is linked into the build.
 */
export function compileEntries(root: string, entries: string[]): string[] {
  const outDir = path.join(root, '.tmp', 'bench-build');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const project = path.join(outDir, 'tsconfig.json');
  const compilerOptions = { noEmit: false, rootDir: root, outDir, types: ['node'] };
  writeFileSync(project, JSON.stringify({ extends: path.join(root, 'tsconfig.json'), compilerOptions, include: [], files: entries }));
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', project], { stdio: 'inherit' });
  symlinkSync(path.join(root, 'schemas'), path.join(outDir, 'schemas'));
  return entries.map((entry) => path.join(outDir, path.relative(root, entry)).replace(/\.ts$/, '.js'));
}

export interface ChildServer {
  pid: number;
  url: string;
  /** Current and peak resident set size of the server process, in bytes. */
  memory(): Promise<{ rss: number; peakRss: number }>;
  /** CPU time (user + system, all threads) the server process has used so far, in ms; NaN where /proc is missing. */
  cpuMs(): number;
  /** Sends `{type, ...payload}` over IPC and resolves with the child's first answer of the same type. */
  call<T>(type: string, payload?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

function procStatus(pid: number): { rss: number; peakRss: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(/^\s*(\d+)/.exec(text.split(`${key}:`)[1] ?? '')?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** utime + stime of a process from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 10 ms on Linux). */
function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

function request<T>(child: ChildProcess, type: string, payload: Record<string, unknown> = {}): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (msg: { type?: string } & T) => {
      if (msg?.type !== type) return;
      child.off('message', onMessage);
      resolve(msg);
    };
    child.on('message', onMessage);
    child.send({ ...payload, type });
  });
}

export interface ChildOptions {
  timeoutMs?: number;
  /** 'ignore' discards the child's stdout (a server's log lines are still written, as in production). */
  stdout?: 'inherit' | 'ignore';
  /** Extra node options for the child, e.g. --cpu-prof (BENCH_CPU_PROF=dir sets that for the bridge). */
  execArgv?: string[];
}

/** Starts `entry` (a .ts file run through bin/run-ts.js, or a compiled .js file) with one JSON argument. */
export function startChildServer(entry: string, args: unknown, options: ChildOptions = {}): Promise<ChildServer> {
  const { timeoutMs = 60_000, stdout = 'inherit', execArgv = [] } = options;
  const file = path.resolve(entry);
  const [script, argv] = file.endsWith('.js') ? [file, [JSON.stringify(args)]] : [runTs, [file, JSON.stringify(args)]];
  const child = fork(script, argv, {
    stdio: ['ignore', stdout, 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...execArgv],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with code ${code} before listening`));
    });
    child.on('message', (msg: { type?: string; port?: number; error?: string }) => {
      if (msg?.type === 'error') {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`${entry}: ${msg.error}`));
      }
      if (msg?.type !== 'listening') return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        pid: child.pid!,
        url: `http://127.0.0.1:${msg.port}`,
        async memory() {
          return procStatus(child.pid!) ?? request<{ rss: number; peakRss: number }>(child, 'memory');
        },
        cpuMs: () => procCpuMs(child.pid!),
        call: (type, payload) => request(child, type, payload),
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
          }),
      });
    });
  });
}

/**
 * The parent side of the child's CPU profiler: `start()` before a measured window, `stop(file)`
 * after it writes the window's profile (a .cpuprofile for Chrome DevTools or any profile viewer),
 * so that a profile shows one scenario rather than the server's start and every other scenario.
 */
export function cpuProfiler(server: ChildServer) {
  return {
    start: () => server.call<{ ok: true }>('cpu-profile-start'),
    stop: (file: string) => server.call<{ ok: true }>('cpu-profile-stop', { file }),
  };
}

/** The child's end of cpuProfiler: the inspector's sampling profiler in this process (main thread). */
function profilerMessages(): (msg: { type?: string; file?: string }) => void {
  let session: Session | null = null;
  const post = <T>(method: string, params?: object) =>
    new Promise<T>((resolve, reject) => session!.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T))));
  return (msg) => {
    if (msg?.type === 'cpu-profile-start') {
      session ??= new Session();
      session.connect();
      void post('Profiler.enable')
        .then(() => post('Profiler.setSamplingInterval', { interval: 200 }))
        .then(() => post('Profiler.start'))
        .then(() => process.send?.({ type: 'cpu-profile-start', ok: true }));
    }
    if (msg?.type === 'cpu-profile-stop' && session) {
      void post<{ profile: unknown }>('Profiler.stop').then(({ profile }) => {
        writeFileSync(String(msg.file), JSON.stringify(profile));
        session!.disconnect();
        process.send?.({ type: 'cpu-profile-stop', ok: true });
      });
    }
  };
}

/** The child side: call from the entry point once the server listens. */
export function reportListening(port: number): void {
  let peakRss = process.memoryUsage().rss;
  setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200).unref();
  const profiler = profilerMessages();
  process.on('message', (msg: { type?: string }) => {
    if (msg?.type === 'memory') {
      const rss = process.memoryUsage().rss;
      process.send?.({ type: 'memory', rss, peakRss: Math.max(peakRss, rss) });
    }
    if (msg?.type === 'heap-stats') {
      // What the resident set is made of: V8's heap by space, and memory outside it (buffers, native).
      const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
      process.send?.({ type: 'heap-stats', ...process.memoryUsage(), spaces });
    }
    if (msg?.type === 'heap-snapshot') process.send?.({ type: 'heap-snapshot', file: writeHeapSnapshot((msg as { file?: string }).file) });
    profiler(msg);
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'listening', port });
}

export function reportStartFailure(err: unknown): void {
  process.send?.({ type: 'error', error: (err as Error)?.stack ?? String(err) });
  setTimeout(() => process.exit(1), 100);
}
