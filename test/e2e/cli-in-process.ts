// The `scim-graph-bridge` commands run in this process through main(argv, io), as the real command
// runs them (same parsing, same exit codes, same output), with the environment passed explicitly and
// output captured; `serve` stops when the test asks, as the real one does on SIGTERM. The spawned
// process (cli-process.ts) stays for what only a process shows: the bin entry, its exit, the banner.
import type { CliIo } from '../../src/cli/io';
import { main } from '../../src/cli/main';
import { bannerDone, cleanEnv } from './cli-process';

interface CapturedIo extends CliIo {
  stdout: { write(chunk: string): boolean; text: string };
  stderr: { write(chunk: string): boolean; text: string };
  /** Both streams in the order written, as a terminal shows them. */
  both(): string;
  /** What io.stopped() resolves with: a long-running command stops, as on that signal. */
  stop(signal: string): void;
  /** Called after each write (serveIn watches for the banner through it). */
  onWrite?: () => void;
}

/** An io whose output the test reads (io.stdout.text, io.stderr.text), over cleanEnv(env). */
export function captureIo(env: NodeJS.ProcessEnv = {}): CapturedIo {
  let both = '';
  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((r) => (stop = r));
  const stream = () => ({
    text: '',
    write(chunk: string) {
      this.text += chunk;
      both += chunk;
      io.onWrite?.();
      return true;
    },
  });
  const io: CapturedIo = { stdout: stream(), stderr: stream(), env: cleanEnv(env), both: () => both, stop, stopped: () => stopped };
  return io;
}

/** A one-shot command, resolved with its exit code and what it printed (as cli() of cli-process.ts). */
export async function cliIn(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo(env);
  const code = await main(args, io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

export interface ServedIn {
  out: () => string;
  scimUrl: string;
  /** Stops serve as SIGTERM does, resolved with its exit code. */
  stop(): Promise<number>;
}

const running: ServedIn[] = [];

/** Stops what serveIn() started and still runs (afterEach). */
export async function stopServedIn(): Promise<void> {
  await Promise.all(running.splice(0).map((s) => s.stop()));
}

/** Starts `serve` and resolves once its whole banner (SCIM URL to Graph target) is out; rejects if it ends first. */
export function serveIn(env: NodeJS.ProcessEnv): Promise<ServedIn> {
  const io = captureIo(env);
  return new Promise((done, fail) => {
    const ended = main(['serve'], io);
    let stopping: Promise<number> | undefined;
    const served: ServedIn = {
      out: io.both,
      scimUrl: '',
      stop: () => {
        stopping ??= (io.stop('SIGTERM'), ended);
        return stopping;
      },
    };
    io.onWrite = () => {
      const url = bannerDone(io.both()) && /^SCIM base URL: (\S+)$/m.exec(io.both());
      if (!url) return;
      io.onWrite = undefined;
      served.scimUrl = url[1];
      running.push(served);
      done(served);
    };
    void ended.then((code) => {
      if (!served.scimUrl) fail(new Error(`serve exited ${code}: ${io.both()}`));
    });
  });
}
