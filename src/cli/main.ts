// `scim-graph-bridge <command>`: main(argv, io) runs one command against an io (its output streams,
// the environment its config is read from, and what stops a long-running command) and resolves
// with the exit code. index.ts runs it on the process; tests run it in-process with their own io.
import { Command, CommanderError } from 'commander';
import type { Mode } from '../config';
import { ConfigError } from '../errors';
import type * as GraphSim from '../simulator/cli';
import type * as Backup from './backup';
import type { CliIo } from './io';
import type * as EngineCommands from './engine-commands';
import type * as PermissionsCommand from './permissions-command';
import type * as ServeCommands from './serve';
import type * as SourceCommands from './source-commands';

// A command loads its module when it runs, so `--help`, `sources`, `backup` or `permissions` start
// without the engine, express, the Graph client and the simulator (about half of `serve`'s start-up).
// require, since tsconfig's module node20 compiles a dynamic import() to an ESM import.
/* eslint-disable @typescript-eslint/no-require-imports -- lazy command modules (see above) */
const backupCommand = () => require('./backup') as typeof Backup;
const engineCommands = () => require('./engine-commands') as typeof EngineCommands;
const permissionsCommand = () => require('./permissions-command') as typeof PermissionsCommand;
const serveCommands = () => require('./serve') as typeof ServeCommands;
const sourceCommands = () => require('./source-commands') as typeof SourceCommands;
const graphSim = () => require('../simulator/cli') as typeof GraphSim;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Runs `scim-graph-bridge <argv...>` (argv without node and the script) and resolves with its exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = new Command('scim-graph-bridge')
    .description('SCIM 2.0 server that provisions Microsoft Entra ID through Microsoft Graph')
    .option('-c, --config <file>', 'JSON config file (else BRIDGE_CONFIG)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  const configFile = (): string | undefined => program.opts().config;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander hands each command its own arguments and options
  const run = (action: (...args: any[]) => Promise<number | void>) => {
    return async (...args: unknown[]): Promise<void> => {
      try {
        const code = await action(...args);
        if (typeof code === 'number') exitCode = code;
      } catch (err) {
        if (err instanceof ConfigError) {
          io.stderr.write(`${err.message}\n`);
          exitCode = 2;
          return;
        }
        io.stderr.write(`error: ${(err as Error).message}\n`);
        exitCode = 1;
      }
    };
  };

  program
    .command('serve')
    .description('serve SCIM, the admin dashboard and the sync engine')
    .action(run(async () => serveCommands().serve(configFile(), io)));

  program
    .command('preflight')
    .description('check the tenant against the configured mode; exits non-zero with each reason')
    .action(run(async () => engineCommands().preflight(configFile(), io)));

  program
    .command('permissions')
    .description('list the Graph application permissions the configured mode and options need, with az CLI and PowerShell commands that grant them')
    .option('--mode <mode>', 'list them for this mode instead of the configured one')
    .option('--json', 'print JSON')
    .action(
      run(async (opts: { mode?: Mode; json?: boolean }) => permissionsCommand().permissions(configFile(), opts, (l) => io.stdout.write(`${l}\n`), io.env)),
    );

  program
    .command('status')
    .description('engine state, counts by sync state, errors and pending deletions')
    .option('--json', 'print JSON')
    .action(run(async (opts) => engineCommands().status(configFile(), opts, io)));

  program
    .command('plan')
    .description('the Graph writes pending now, or what a mode change would write')
    .option('--mode <mode>', 'show what switching to this mode would write')
    .option('--json', 'print JSON')
    .action(run(async (opts) => engineCommands().plan(configFile(), opts, io)));

  program
    .command('retry')
    .description('retry resources in error (all, or one)')
    .option('--user <id>', 'one user')
    .option('--group <id>', 'one group')
    .action(run(async (opts) => engineCommands().retry(configFile(), opts, io)));

  program
    .command('approve-deletions')
    .description('let deprovisioning paused by the deletion threshold go ahead, listing each user it releases')
    .option('--dry-run', 'list the held deprovisions (user, source, delete or deactivate) without releasing them')
    .action(run(async (opts) => engineCommands().approveDeletions(configFile(), opts, io)));

  program
    .command('reconcile')
    .description('compare Graph with the applied state and revert drift')
    .option('--full', 'every managed resource, not only the delta since the last check')
    .action(run(async (opts) => engineCommands().reconcile(configFile(), opts, io)));

  program
    .command('backup <file>')
    .description('write a consistent copy of the database to <file> (SQLite online backup; safe while serve runs)')
    .option('--force', 'overwrite <file> if it exists')
    .action(run(async (file, opts) => backupCommand().backup(configFile(), file, opts, io)));

  const sources = program.command('sources').description('SCIM sources (IdP connectors) and their tokens');
  sources
    .command('add <id>')
    .description('add a source and print its new token')
    .option('--directory <id>', 'an AD directory whose users this source carries (repeatable)', (v, all: string[]) => [...all, v], [])
    .action(run(async (id, opts) => sourceCommands().add(configFile(), id, opts, io)));
  sources
    .command('rotate <id>')
    .description('replace a source token and print the new one; the old one keeps working for a grace period')
    .option('--grace <seconds>', 'how long the old token keeps working (default: tokenGraceSeconds, 24 h)')
    .option('--revoke-old', 'the old token stops working now')
    .action(run(async (id, opts) => sourceCommands().rotate(configFile(), id, opts, io)));
  sources
    .command('revoke-old <id>')
    .description('end the grace period of the token replaced by the last rotation now')
    .action(run(async (id) => sourceCommands().revokeOld(configFile(), id, io)));
  sources
    .command('list')
    .description('list every source: configured, added, or owning resources (never their tokens)')
    .action(run(async () => sourceCommands().list(configFile(), io)));

  program
    .command('users')
    .description('user administration')
    .command('transfer <userId> <toSource>')
    .description('move ownership of a user to another source')
    .action(run(async (userId, toSource) => sourceCommands().transferUser(configFile(), userId, toSource, io)));

  program
    .command('graph-sim')
    .description('serve the Graph simulator alone')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .helpOption(false)
    .action(
      run(async () => {
        const sim = await graphSim().runGraphSim(argv.slice(argv.indexOf('graph-sim') + 1), io.stdout);
        await io.stopped();
        await sim.close();
      }),
    );

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    // Commander printed its own message (an unknown command, a missing argument) or the help.
    if (err instanceof CommanderError) return err.exitCode;
    io.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  return exitCode;
}
