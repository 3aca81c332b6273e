// /Users as small named steps: load and check access, normalise or patch, work out what
// changed and what sync/ must know (password, tokensValidFrom, dirSyncEnabled), then one store
// write (= one transaction). Shared by the HTTP routes and /Bulk.
import type { Config } from '../config';
import { dirSyncEnabledFor, syncedThroughAd, tokensValidFromOnWrite, type BridgeExtension } from '../rules/identity';
import type { ListedResource, Store, SyncWrite } from '../store';
import { assertCanChange, assertOwner, assertVisible, type WriteOptions, checkIfMatch, ownerScope } from './access';
import { changedAttributes } from './attribution-keys';
import type { Principal } from './auth';
import { parseFilter } from './filter';
import { type IgnoredExtension, ignoredForAudit } from './foreign-extensions';
import { sortOf, type ListParams } from './list-params';
import { applyPatch } from './patch';
import { graphReadyUser } from './graph-values';
import { createReferenceChecker } from './references';
import { normaliseResource } from './resource-input';
import { BRIDGE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, resourceTypes } from './schema';

const USER = resourceTypes.User;

export interface WriteResult {
  resource: ListedResource;
  changed: boolean;
}

export type UserService = ReturnType<typeof createUserService>;

export function createUserService({ config, store }: { config: Config; store: Store }) {
  const bridgeOf = (data: Record<string, unknown>) => (data[BRIDGE_USER_SCHEMA] as BridgeExtension | undefined) ?? {};

  const references = createReferenceChecker(store);
  const managerOf = (data: Record<string, unknown> | null): unknown =>
    ((data?.[ENTERPRISE_USER_SCHEMA] as Record<string, unknown> | undefined)?.manager as { value?: unknown } | undefined)?.value;

  /**
   * A new or changed manager must be a User the writer and the user's owner can see (references.ts);
   * one deleted meanwhile, or a value that cannot be a bridge id, is dropped and named in the audit row.
   * An unchanged one is not checked again, so a manager deleted later does not block other updates.
   */
  function checkManager(
    p: Principal,
    ownerId: string,
    before: Record<string, unknown> | null,
    data: Record<string, unknown>,
  ): { data: Record<string, unknown>; dropped?: string } {
    const value = managerOf(data);
    if (typeof value !== 'string' || value === managerOf(before)) return { data };
    if (references.manager(p, ownerId, value, `${ENTERPRISE_USER_SCHEMA}:manager.value`) === 'keep') return { data };
    const { manager: _gone, ...rest } = data[ENTERPRISE_USER_SCHEMA] as Record<string, unknown>;
    const out: Record<string, unknown> = { ...data, [ENTERPRISE_USER_SCHEMA]: rest };
    if (!Object.keys(rest).length) delete out[ENTERPRISE_USER_SCHEMA];
    return { data: out, dropped: value.length > 100 ? `${value.slice(0, 100)}...` : value };
  }

  const auditOf = (opts: WriteOptions, dropped: string | undefined) => {
    const ignored = ignoredForAudit(opts.unknown);
    return dropped === undefined ? ignored : { ...ignored, droppedManager: dropped };
  };

  function load(p: Principal, id: string): ListedResource {
    return assertVisible(p, store.queries.getUser(id), 'User', id);
  }

  /** SPEC sections 4 and 5: dirSyncEnabled on every write; on a password change, tokensValidFrom. */
  function syncFor(id: string | null, ownerId: string, before: Record<string, unknown> | null, after: Record<string, unknown>, password?: string): SyncWrite {
    // Users the inbound writer provisions into AD: dirSyncEnabled is what Graph reports (sync/inbound-follow.ts).
    const sync: SyncWrite = syncedThroughAd(config, config.mode) ? {} : { dirSyncEnabled: dirSyncEnabledFor(config.mode) };
    if (password) sync.pendingPassword = password;
    if (!before || !id) return sync; // creation is not a change
    const directories = store.sources.get(ownerId)?.directories ?? [];
    const facts = { created: false, passwordSent: Boolean(password), ext: bridgeOf(after), previousPwdLastSet: bridgeOf(before).pwdLastSet };
    const computed = tokensValidFromOnWrite(config.mode, facts, directories, new Date());
    if (!computed) return sync;
    const current = store.sync.get('User', id)?.tokensValidFrom;
    // Token validity never moves back: a replayed or older pwdLastSet revokes nothing.
    if (!current || computed.getTime() > Date.parse(current)) sync.tokensValidFrom = computed.toISOString();
    return sync;
  }

  function write(
    p: Principal,
    row: ListedResource,
    input: Record<string, unknown>,
    password: string | undefined,
    action: string,
    opts: WriteOptions,
  ): WriteResult {
    const { data, dropped } = checkManager(p, row.sourceId, row.data, graphReadyUser(row.data, input));
    const changed = changedAttributes(USER, row.data, data);
    const attributes = password ? [...changed, 'password'] : changed;
    assertCanChange(USER, p, row.sourceId, attributes);
    const result = store.users.replace(row.id, data, {
      sourceId: p.source.id,
      attributes,
      action,
      expectedVersion: row.version,
      skipIfUnchanged: true,
      sync: syncFor(row.id, row.sourceId, row.data, data, password),
      auditDetail: auditOf(opts, dropped),
    });
    const { changed: written, ...resource } = result;
    return { resource: written ? resource : row, changed: written };
  }

  return {
    get(p: Principal, id: string): ListedResource {
      return load(p, id);
    },

    /** `notes` collects the unknown extensions the filter names (they match as unassigned attributes). */
    list(p: Principal, params: ListParams, notes?: IgnoredExtension[]) {
      const filter = params.filter !== undefined && params.filter.trim() !== '' ? parseFilter(USER, params.filter, notes) : undefined;
      return store.queries.list('User', { filter, sort: sortOf(USER, params), startIndex: params.startIndex, count: params.count, ownerId: ownerScope(p) });
    },

    create(p: Principal, body: unknown, opts: WriteOptions = {}): ListedResource {
      const input = normaliseResource(USER, body, opts.unknown);
      const { data, dropped } = checkManager(p, p.source.id, null, graphReadyUser(null, input.data));
      input.data = data;
      const changed = changedAttributes(USER, null, input.data);
      // The stored user with its sync state, as a GET would read it back.
      return store.users.create(input.data, {
        sourceId: p.source.id,
        attributes: input.password ? [...changed, 'password'] : changed,
        sync: syncFor(null, p.source.id, null, input.data, input.password),
        auditDetail: auditOf(opts, dropped),
      });
    },

    replace(p: Principal, id: string, body: unknown, opts: WriteOptions = {}): WriteResult {
      const row = load(p, id);
      checkIfMatch(opts, row.version);
      const input = normaliseResource(USER, body, opts.unknown);
      return write(p, row, input.data, input.password, 'user.replace', opts);
    },

    patch(p: Principal, id: string, body: unknown, opts: WriteOptions = {}): WriteResult {
      const row = load(p, id);
      checkIfMatch(opts, row.version);
      const result = applyPatch(USER, row.data, body, { unknown: opts.unknown });
      return write(p, row, result.data, result.password, 'user.patch', opts);
    },

    remove(p: Principal, id: string, opts: WriteOptions = {}): void {
      const row = load(p, id);
      checkIfMatch(opts, row.version);
      assertOwner(p, row.sourceId, 'User');
      store.users.remove(id, { sourceId: p.source.id, expectedVersion: row.version });
    },
  };
}
