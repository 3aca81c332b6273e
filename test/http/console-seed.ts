// A store seeded for the console's tests, written through the store directly (fast): `users`
// users of source okta (most synced with a Graph id, some in error), six users of source hr
// deleted and waiting to be deprovisioned, and one drift event as the engine records it.
import { loadConfig, type Config } from '../../src/config';
import { openStore } from '../../src/store';

export const SEED_ERROR = 'Request_BadRequest: seeded failure: the bridge has not created this user yet';

export interface SeedOptions {
  database: string;
  users: number;
  errors: number;
  adminToken: string;
  sourceTokens: { okta: string; hr: string };
  deletionThreshold?: number;
}

export function consoleConfig(o: SeedOptions): Config {
  return loadConfig({
    env: {},
    overrides: {
      port: 0,
      host: '127.0.0.1',
      database: o.database,
      adminToken: o.adminToken,
      deletionThreshold: o.deletionThreshold ?? 5,
      sources: [
        { id: 'okta', token: o.sourceTokens.okta },
        { id: 'hr', token: o.sourceTokens.hr },
      ],
      logLevel: 'silent',
    },
  });
}

const pad = (n: number) => String(n).padStart(5, '0');
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export function seedConsoleStore(config: Config, o: SeedOptions): { errorUserIds: string[]; driftUserId: string } {
  const store = openStore(config.database, { mode: config.mode, sources: config.sources });
  const departments = ['Finance', 'Sales', 'Engineering', 'Support'];
  const errorUserIds: string[] = [];
  let driftUserId = '';
  try {
    store.transaction(() => {
      for (let i = 1; i <= o.users; i++) {
        const userName = `user${pad(i)}@example.com`;
        const data = {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
          userName,
          displayName: `Seeded User ${pad(i)}`,
          name: { givenName: 'Seeded', familyName: `User ${pad(i)}` },
          emails: [{ value: userName, type: 'work', primary: true }],
          active: true,
          [ENTERPRISE]: { department: departments[i % departments.length], employeeNumber: `E${pad(i)}` },
        };
        const attributes = [
          'active',
          'displayName',
          'emails',
          'name.familyName',
          'name.givenName',
          'userName',
          `${ENTERPRISE}:department`,
          `${ENTERPRISE}:employeeNumber`,
        ];
        const created = store.users.create(data, { sourceId: 'okta', attributes, sync: { dirSyncEnabled: false } });
        if (i <= o.errors) {
          // Never reached Graph: a permanent error that waits for a retry (or sync now).
          store.sync.markFailed('User', created.id, 1, SEED_ERROR);
          errorUserIds.push(created.id);
        } else {
          const graphId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
          store.sync.markApplied('User', created.id, 1, {
            graphId,
            appliedSnapshot: {
              properties: { userPrincipalName: userName, displayName: data.displayName, department: data[ENTERPRISE].department, accountEnabled: true },
              licenses: [],
            },
          });
          if (i === o.users) driftUserId = created.id;
        }
      }
      for (let i = 1; i <= 6; i++) {
        const userName = `leaver${i}@hr.example.com`;
        const created = store.users.create(
          { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, displayName: `HR Leaver ${i}`, active: true },
          { sourceId: 'hr', attributes: ['active', 'displayName', 'userName'], sync: { dirSyncEnabled: false } },
        );
        store.sync.markApplied('User', created.id, 1, {
          graphId: `11111111-0000-4000-8000-${String(i).padStart(12, '0')}`,
          appliedSnapshot: { properties: { userPrincipalName: userName, accountEnabled: true }, licenses: [] },
        });
        store.users.remove(created.id, { sourceId: 'hr' });
      }
      // A drift event exactly as the engine's delta check records it (src/sync/drift.ts).
      store.audit.append({
        action: 'sync.drift',
        resourceType: 'User',
        resourceId: driftUserId,
        detail: {
          graphId: 'drifted-graph-id',
          attributes: ['department', 'jobTitle'],
          changedBy: 'outside the bridge (Graph delta)',
          detectedAt: '2026-12-01T09:30:00.000Z',
          reverted: true,
        },
      });
    });
  } finally {
    store.close();
  }
  return { errorUserIds, driftUserId };
}
