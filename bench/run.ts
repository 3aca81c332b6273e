// `npm run bench`: runs each benchmark module in turn and prints a summary table.
// A module exports run<Name>Bench(): Promise<BenchReport | void>, prints its own figures as it
// goes, and returns its verdicts (one per target, PASS/FAIL). A module that does not exist yet,
// or throws, is skipped with the reason; the runner exits 1 when a target fails or a bench throws.
// Each module runs in a process of its own: a bench that measures its own process's memory (sync
// runs the engine here) must not inherit the heap an earlier one left (the SCIM bench's load
// generator left 170 MB resident, which a sync load run after it then counted as the bridge's).
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { table, verdictRows, type Verdict } from './lib/stats';

export interface BenchReport {
  verdicts: Verdict[];
}

const benches = [
  { file: 'scim.ts', fn: 'runScimBench' },
  { file: 'simulator.ts', fn: 'runSimulatorBench' },
  { file: 'sync.ts', fn: 'runSyncBench' },
  { file: 'inbound.ts', fn: 'runInboundBench' },
  { file: 'ingress-limits.ts', fn: 'runIngressLimitsBench' },
  { file: 'console.ts', fn: 'runConsoleBench' },
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const verdicts: Verdict[] = [];
  const outcomes: string[][] = [];
  for (const { file, fn } of benches) {
    if (only.length && !only.some((o) => file.startsWith(o))) continue;
    const full = path.join(__dirname, file);
    if (!existsSync(full)) {
      outcomes.push([file, 'skipped', 'not present yet']);
      continue;
    }
    const started = Date.now();
    console.log(`\n=== bench/${file} ===`);
    try {
      const report = await inChild(full, fn);
      const own = report?.verdicts ?? [];
      verdicts.push(...own);
      const failed = own.filter((v) => !v.pass).length;
      outcomes.push([file, failed ? `${failed} target(s) failed` : 'ok', `${((Date.now() - started) / 1000).toFixed(0)} s`]);
    } catch (err) {
      console.error(`bench/${file} failed: ${(err as Error)?.stack ?? err}`);
      outcomes.push([
        file,
        'error',
        String((err as Error)?.message ?? err)
          .split('\n')[0]
          .slice(0, 100),
      ]);
    }
  }
  console.log('\n=== summary ===');
  console.log(table(['bench', 'outcome', 'detail'], outcomes));
  if (verdicts.length) console.log('\n' + table(['bench', 'target', 'measured', 'verdict'], verdictRows(verdicts)));
  const bad = verdicts.some((v) => !v.pass) || outcomes.some((o) => o[1] === 'error');
  process.exitCode = bad ? 1 : 0;
}

/** Runs one module's bench function in a child process (this file with `--one`); its verdicts come back over IPC. */
function inChild(full: string, fn: string): Promise<BenchReport | void> {
  return new Promise((resolve, reject) => {
    const child = fork(path.resolve(__dirname, '../bin/run-ts.js'), [__filename, '--one', full, fn], { stdio: 'inherit', execArgv: process.execArgv });
    let report: BenchReport | undefined;
    let failure: string | undefined;
    child.on('message', (msg: { report?: BenchReport; error?: string }) => {
      if (msg.error !== undefined) failure = msg.error;
      else report = msg.report;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (failure !== undefined) reject(new Error(failure));
      else if (code === 0) resolve(report);
      else reject(new Error(`bench process ended with ${signal ?? `code ${code}`} before reporting`));
    });
  });
}

/** The child's side: one module, its report sent to the parent. */
async function runOne(full: string, fn: string): Promise<void> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- modules are optional
    const mod = require(full) as Record<string, () => Promise<BenchReport | void>>;
    if (typeof mod[fn] !== 'function') throw new Error(`does not export ${fn}()`);
    const report = await mod[fn]();
    process.send?.({ report: { verdicts: report?.verdicts ?? [] } });
  } catch (err) {
    console.error(`bench/${path.basename(full)} failed: ${(err as Error)?.stack ?? err}`);
    process.send?.({ error: String((err as Error)?.message ?? err) });
  }
}

const one = process.argv.indexOf('--one');
(one >= 0 ? runOne(process.argv[one + 1], process.argv[one + 2]) : main()).then(
  () => process.exit(),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
