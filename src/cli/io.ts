// What a command reads and writes besides its arguments: its two output streams, the environment its
// config comes from, and what tells a long-running command (serve, graph-sim) to stop. The process's
// own (index.ts) writes to file descriptors 1 and 2, reads process.env and stops on SIGINT or SIGTERM;
// a test's writes to strings and stops when the test says so.
import pino from 'pino';

export interface CliOutput {
  write(chunk: string): unknown;
}

export interface CliIo {
  /** The command's answer (and serve's banner and logs). */
  stdout: CliOutput;
  /** Notes, errors, and a one-shot command's logs. */
  stderr: CliOutput;
  /** Where BRIDGE_CONFIG and the BRIDGE_* overrides are read (src/config.ts). */
  env: NodeJS.ProcessEnv;
  /** Resolves with what asked a long-running command to stop (a signal's name); called once it serves. */
  stopped(): Promise<string>;
}

/** The process's io: stdout, stderr, process.env, and SIGINT or SIGTERM to stop (the same signal again ends the process at once). */
export function processIo(): CliIo & { signalled: boolean } {
  let stop: Promise<string> | undefined;
  const io = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signalled: false,
    stopped(): Promise<string> {
      stop ??= new Promise<string>((done) => {
        const on = (signal: string) => () => {
          io.signalled = true;
          done(signal);
        };
        process.once('SIGINT', on('SIGINT'));
        process.once('SIGTERM', on('SIGTERM'));
      });
      return stop;
    },
  };
  return io;
}

/**
 * Where a command's structured logs go: written straight to file descriptor 1 or 2 (pino's own fast
 * path) when the io is the process's, else through the io's stream.
 */
export function logDestination(io: CliIo, stream: 'stdout' | 'stderr'): pino.DestinationStream | undefined {
  if (io[stream] === process.stdout) return undefined;
  if (io[stream] === process.stderr) return pino.destination(2);
  const out = io[stream];
  return { write: (line: string) => void out.write(line) };
}
