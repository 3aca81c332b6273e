// What the admin surface reads. The composition root fills it from the store's read-only
// views and the engine, so admin/ depends on their shapes only.
import type { AdminUser } from '../store/admin-queries';

export interface HealthReport {
  status: 'ok' | 'degraded' | 'blocked';
  mode: string;
  engine: { state: string; reasons: string[]; warnings: string[] };
  graph: { simulator: boolean; baseUrl: string; dryRun: boolean };
  queue: Record<string, number>;
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
}
