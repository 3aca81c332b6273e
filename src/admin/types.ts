// What the admin surface reads. The composition root fills it from the store's read-only
// views and the engine, so admin/ depends on their shapes only.
import type { ResourceType, SyncRow } from '../store';
import type { AdminUser } from '../store/admin-queries';
import type { Attribution } from '../store/attribution';
import type { AuditFilter, ConsoleAuditRow, ConsoleGroupRow, ConsoleMemberRow, ConsoleUserRow, ListFilter, PendingDeletionRow } from '../store/console-queries';
import type { EngineStatus, SyncNowResult } from '../sync/engine';
import type { GraphLog } from './graph-log';

export interface HealthReport {
  status: 'ok' | 'degraded' | 'blocked';
  mode: string;
  engine: {
    state: string;
    reasons: string[];
    warnings: string[];
    /** Sync runs in a row that failed as a whole (0 once one completes). */
    consecutiveFailedRuns: number;
    /** Runs that failed as a whole since start. */
    failedRuns: number;
    /** The last whole-run failure, kept until a run completes. */
    lastRunError: { at: string; message: string } | null;
  };
  graph: { simulator: boolean; baseUrl: string; dryRun: boolean };
  /** Totals by sync state (users and groups together). */
  queue: Record<string, number>;
  /** Counts by resource type, then sync state (`deprovisioned`: deleted and applied). */
  resources: Record<ResourceType, Record<string, number>>;
}

/** What /healthz shows without the admin token: state and counts only. */
export type PublicHealth = Pick<HealthReport, 'status' | 'queue' | 'resources'> & { engine: { state: string } };

export interface ResourceDetail {
  id: string;
  sourceId: string;
  resource: Record<string, unknown>;
  deleted: boolean;
  /** The sync row (it never carries the pending password, only hasPendingPassword). */
  sync: SyncRow | null;
  attribution: Attribution[];
}

/** The operator's console: reads through the store's bounded queries, actions through the engine. */
export interface ConsoleData {
  settings: {
    mode: string;
    writeBudget: { writes: number; perSeconds: number };
    resourceUnits: { units: number; perSeconds: number };
    deletionThreshold: number;
    simulator: boolean;
    dryRun: boolean;
    /** The mode (and groups.push) writes groups and memberships to Graph. */
    pushesGroups: boolean;
  };
  status(): EngineStatus;
  counts(): Record<ResourceType, Record<string, number>>;
  sources(): Array<{ id: string; directories: unknown[]; users: number; groups: number }>;
  users(filter: ListFilter): { total: number; items: ConsoleUserRow[] };
  groups(filter: ListFilter): { total: number; items: ConsoleGroupRow[] };
  resource(type: ResourceType, id: string): ResourceDetail | null;
  groupMembers(id: string, page: { offset: number; limit: number }): { total: number; items: ConsoleMemberRow[] };
  groupsOfUser(id: string): { id: string; displayName: string }[];
  deletions(source?: string): { bySource: { sourceId: string; count: number }[]; items: PendingDeletionRow[] };
  drift(limit: number): ConsoleAuditRow[];
  audit(filter: AuditFilter): ConsoleAuditRow[];
  auditOf(type: ResourceType, id: string, limit: number): ConsoleAuditRow[];
  /** userName / displayName by `Type:id`, for showing names instead of ids. */
  names(refs: readonly { type: string | null; id: string | null }[]): Map<string, string>;
  graphLog: GraphLog;
  syncNow(type: ResourceType, id: string): Promise<SyncNowResult>;
  retry(type: ResourceType, id: string): number;
  approveDeletions(sourceId: string): { approved: number };
  rejectDeletions(sourceId: string): { rejected: number };
}

export interface AdminDataSource {
  health(): HealthReport;
  ready(): boolean;
  sources(): Array<{ id: string; directories: unknown[]; users: number; groups: number }>;
  users(options: { offset: number; limit: number; search?: string }): { total: number; items: AdminUser[] };
  queue(limit: number): unknown[];
  graphLog(limit: number): unknown[];
  drift(limit: number): unknown[];
  preflight(): unknown;
  console: ConsoleData;
}
