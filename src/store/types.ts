// Shapes that leave store/: camelCase, SCIM names, never SQL column names.
export type ResourceType = 'User' | 'Group';
/** `skipped`: a group the mode (or groups.push) does not push; lastError says why. */
export type SyncStateName = 'pending' | 'synced' | 'error' | 'blocked' | 'skipped';

export interface SyncRow {
  type: ResourceType;
  id: string;
  desiredVersion: number;
  appliedVersion: number;
  appliedSnapshot: unknown;
  graphId: string | null;
  state: SyncStateName;
  lastError: string | null;
  attempts: number;
  nextAttemptAt: number;
  dirSyncEnabled: boolean | null;
  tokensValidFrom: string | null;
  appliedTokensValidFrom: string | null;
  graphTokensValidFrom: string | null;
  /** A password was accepted and not yet written to Graph (store.sync.revealPendingPassword gives it to the engine). */
  hasPendingPassword: boolean;
  deleted: boolean;
  /** A change to take ahead of creations (store/sync-state.ts listDue). */
  urgent: boolean;
}

/** What a SCIM write asks the store to record in sync_state besides the dirty mark. */
export interface SyncWrite {
  dirSyncEnabled?: boolean;
  /** Set on a password change (SPEC section 4), computed at ingress. */
  tokensValidFrom?: string;
  /** The password accepted with this write, kept until the engine applies it. */
  pendingPassword?: string;
  /** The write takes something away (deactivation, licence or member removal): see listDue. */
  urgent?: boolean;
}

/** The sync bookkeeping a GET reports in the bridge extension (users and groups). */
export interface SyncView {
  state: SyncStateName | null;
  graphId: string | null;
  lastError: string | null;
  dirSyncEnabled: boolean | null;
  tokensValidFrom: string | null;
}

/** A stored SCIM resource: `data` is the resource without id, meta and read-only bridge attributes. */
export interface StoredResource {
  id: string;
  sourceId: string;
  version: number;
  created: string;
  lastModified: string;
  data: Record<string, unknown>;
}

export interface WriteContext {
  /** The authenticated source making the write (recorded in attribution and audit). */
  sourceId: string;
  at?: Date;
  /** Attribute names changed by this write (attribution rows); computed by the caller. */
  attributes?: string[];
  action?: string;
  sync?: SyncWrite;
  /** More for the audit row, e.g. what the ingress left out of the write (names and URNs, never values). */
  auditDetail?: Record<string, unknown>;
  /**
   * Groups: the users who leave the group (or all its users, when it is deleted) and are already in
   * Graph are diffed again ahead of creations: the group carries licences (licenses.groups), and
   * leaving it is a licence removal.
   */
  leaversUrgent?: boolean;
}

export interface ForSync {
  id: string;
  sourceId: string;
  /** Full SCIM JSON including extensions (groups: without members; see pendingMemberChanges). */
  resource: Record<string, unknown>;
  deleted: boolean;
}

export interface MemberRef {
  value: string;
  type: ResourceType;
  /** The display the client sent with the member, if any. */
  display?: string | null;
}

export interface SourceRecord {
  id: string;
  directories: { id: string; type: 'ad' | 'ldap' | 'cloud'; jit: boolean }[];
  contributes: string[];
  seesAll: boolean;
  configured: boolean;
}
