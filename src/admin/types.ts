// What the admin surface reads. The composition root fills it from the store and the
// engine, so admin/ depends on neither directly.
export interface HealthReport {
  status: 'ok' | 'degraded' | 'blocked';
  mode: string;
  engine: { state: string; reasons: string[]; warnings: string[] };
  graph: { simulator: boolean; baseUrl: string; dryRun: boolean };
  queue: Record<string, number>;
}

export interface AdminUserRow {
  id: string;
  userName: string;
  source: string;
  active: boolean;
  syncState: string;
  lastSyncError: string | null;
  graphId: string | null;
  dirSyncEnabled: boolean;
  tokensValidFrom: string | null;
  attribution: Record<string, { source: string; at: string }>;
}

export interface AdminDataSource {
  health(): HealthReport;
  ready(): boolean;
  sources(): Array<{ id: string; directories: unknown[]; users: number; groups: number }>;
  users(options: { offset: number; limit: number; search?: string }): { total: number; items: AdminUserRow[] };
  queue(limit: number): unknown[];
  graphLog(limit: number): unknown[];
  drift(limit: number): unknown[];
  preflight(): unknown;
}
