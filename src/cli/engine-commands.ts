// `preflight`, `status`, `plan`, `retry`, `approve-deletions`, `reconcile`: one-shot commands
// that open the same store as a running `serve` (SQLite WAL allows both).
import { loadConfig } from '../config';
import { createLogger } from '../log';
import { openRuntime, type Runtime } from '../main';
import type { Mode } from '../config';
import { type CliIo, logDestination } from './io';

/**
 * `look`: preflight, plan and status only look: they record no mode change, sync state or audit,
 * whatever BRIDGE_MODE says (a what-if). The others change sync state, so they run only in the
 * mode the serving bridge recorded.
 */
async function withRuntime<T>(
  configFile: string | undefined,
  io: CliIo,
  kind: 'look' | 'act',
  fn: (rt: Runtime, print: (line?: string) => void) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ file: configFile, env: io.env });
  // Logs go to stderr so that stdout carries only the command's answer.
  const logger = createLogger(config.logLevel, logDestination(io, 'stderr'));
  const runtime = await openRuntime(config, { logger, oneShot: true, readOnly: kind === 'look' });
  try {
    const recorded = runtime.store.recordedMode();
    if (recorded && recorded !== config.mode) {
      if (kind === 'act') {
        throw new Error(
          `the bridge runs in ${recorded} mode (recorded by serve) and this command was given ${config.mode}; ` +
            `run it with the serving mode, or start serve in ${config.mode} first (a mode change is recorded only by serve)`,
        );
      }
      io.stderr.write(`note: the bridge runs in ${recorded} mode; this answers for ${config.mode} and records nothing\n`);
    }
    return await fn(runtime, (line = '') => io.stdout.write(`${line}\n`));
  } finally {
    await runtime.close();
  }
}

export function preflight(configFile: string | undefined, io: CliIo): Promise<number> {
  return withRuntime(configFile, io, 'look', async (rt, print) => {
    const result = await rt.engine.preflight();
    print(`mode: ${rt.config.mode}`);
    for (const reason of result.blocked) print(`BLOCKED: ${reason}`);
    for (const warning of result.warnings) print(`warning: ${warning}`);
    print(
      result.ok
        ? 'preflight passed'
        : result.unreachable
          ? 'preflight could not read the tenant'
          : 'preflight failed: a bridge serving in this mode keeps its sync engine blocked; SCIM ingress keeps accepting',
    );
    return result.ok ? 0 : 1;
  });
}

export function status(configFile: string | undefined, opts: { json?: boolean }, io: CliIo): Promise<number> {
  return withRuntime(configFile, io, 'look', async (rt, print) => {
    const s = rt.engine.status();
    const blocked = rt.store.sync.blockedReason();
    const report = {
      mode: rt.config.mode,
      blocked,
      counts: rt.store.admin.countsByState(),
      queueDepth: s.queueDepth,
      lastErrors: s.lastErrors,
      pendingDeletions: rt.store.admin.pendingDeprovisions(),
      ...(s.inbound ? { inbound: s.inbound } : {}),
    };
    if (opts.json) print(JSON.stringify(report, null, 2));
    else {
      print(`mode: ${report.mode}`);
      print(`engine: ${blocked ? `blocked: ${blocked}` : 'not blocked'}`);
      print(
        `resources: ${Object.entries(report.counts)
          .filter(([k]) => !k.includes('.'))
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
      );
      print(`queue: ${report.queueDepth} due, ${report.pendingDeletions} deprovisions pending`);
      if (s.inbound) print(`inbound records: ${s.inbound.queued} to send, ${s.inbound.sent} sent and not reported, ${s.inbound.awaiting} awaiting Entra`);
      // Fewer than a full request (50): they wait for more, to spare the daily quota of calls.
      if (s.inbound?.partialSendAt) print(`inbound: the ${s.inbound.queued} to send wait for a fuller request until ${s.inbound.partialSendAt}`);
      for (const e of report.lastErrors) print(`error ${e.type} ${e.id}: ${e.lastError}`);
    }
    return blocked ? 1 : 0;
  });
}

export function plan(configFile: string | undefined, opts: { mode?: string; json?: boolean }, io: CliIo): Promise<number> {
  return withRuntime(configFile, io, 'look', async (rt, print) => {
    const pf = await rt.engine.preflight().catch(() => undefined);
    if (pf?.unreachable) io.stderr.write(`note: the tenant could not be read (${pf.blocked.join('; ')}); the plan below knows nothing of it\n`);
    const writes = rt.engine.plan({ mode: opts.mode as Mode | undefined });
    if (opts.json) print(JSON.stringify(writes, null, 2));
    else {
      print(opts.mode ? `switching ${rt.config.mode} -> ${opts.mode} would write:` : 'pending Graph writes:');
      for (const w of writes) print(`${w.method} ${w.url}${w.body ? ` ${JSON.stringify(w.body)}` : ''}`);
      print(`${writes.length} write(s)`);
    }
    return 0;
  });
}

export function retry(configFile: string | undefined, opts: { user?: string; group?: string }, io: CliIo): Promise<number> {
  return withRuntime(configFile, io, 'act', async (rt, print) => {
    const n = opts.user ? rt.engine.retry('User', opts.user) : opts.group ? rt.engine.retry('Group', opts.group) : rt.engine.retry();
    print(`${n} resource(s) queued for retry`);
    return 0;
  });
}

export function approveDeletions(configFile: string | undefined, opts: { dryRun?: boolean }, io: CliIo): Promise<number> {
  return withRuntime(configFile, io, 'act', async (rt, print) => {
    const line = (d: { userName: string; sourceId: string; kind: string; id: string }) => print(`${d.kind}\t${d.userName}\tsource=${d.sourceId}\tid=${d.id}`);
    if (opts.dryRun) {
      const held = rt.engine.heldDeletions();
      held.forEach(line);
      print(`${held.length} deprovision(s) held; approve-deletions without --dry-run releases them`);
      return 0;
    }
    const { approved, released } = rt.engine.approveDeletions();
    released.forEach(line);
    print(`${approved} deprovision(s) approved`);
    return 0;
  });
}

/** @public the reconcile command; cli/index.ts loads this module lazily, and knip does not see that use */
export function reconcile(configFile: string | undefined, opts: { full?: boolean }, io: CliIo): Promise<number> {
  return withRuntime(configFile, io, 'act', async (rt, print) => {
    const summary = await rt.engine.reconcile({ full: Boolean(opts.full) });
    print(JSON.stringify(summary, null, 2));
    return summary.errors?.length ? 1 : 0;
  });
}
