// Shapes shared by the simulator's parts: the internal request/response every route handles (the
// same for top-level requests and $batch items), and the seed a tenant is built from.
import type { InboundSeedApp } from './inbound';
import type { TokenClaims } from './tokens';

export type Json = Record<string, unknown>;

export interface SimRequest {
  method: string;
  /** Path below /v1.0, without query string, e.g. /users/abc/manager/$ref. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: unknown;
  claims: TokenClaims;
  requestId: string;
  clientRequestId: string;
  inBatch: boolean;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface SeedDomain {
  name: string;
  /** Managed (default) or Federated: federated UPNs need onPremisesImmutableId on create. */
  type?: 'Managed' | 'Federated';
  isDefault?: boolean;
  isInitial?: boolean;
}

export interface SeedSku {
  skuId: string;
  skuPartNumber: string;
  seats: number;
  servicePlans?: { servicePlanId: string; servicePlanName: string }[];
}

export interface SeedObject {
  tenant?: {
    id?: string;
    displayName?: string;
    clientId?: string;
    clientSecret?: string;
    /** App roles carried by issued tokens. */
    roles?: string[];
    /**
     * Entra directory roles assigned to the app's service principal (names or role template ids),
     * carried as the token's wids claim. Default: none, as for a new app registration; User
     * Administrator lets app-only calls reset passwords, Privileged Authentication Administrator
     * or Global Administrator also lets them act on administrators.
     */
    directoryRoles?: string[];
    /** Resource-unit budget size (Microsoft: S under 50 users, M up to 500, L above); derived from the user count when absent. */
    size?: 'S' | 'M' | 'L';
  };
  domains?: SeedDomain[];
  skus?: SeedSku[];
  /**
   * Existing users: Graph properties as Graph would return them (read-only ones included), plus
   * optional manager (id or UPN) and directoryRoles (names or role template ids: the user is an
   * administrator). onPremisesSyncEnabled null is a cloud user, true one synced by Entra Connect,
   * false one synced once and no longer.
   */
  users?: (Json & { manager?: string; directoryRoles?: string[] })[];
  /** Existing groups: Graph properties plus members (ids or UPNs). */
  groups?: (Json & { members?: string[] })[];
  devices?: Json[];
  /** Organization properties, e.g. onPremisesSyncEnabled and onPremisesLastSyncDateTime for a tenant run by Entra Connect. */
  organization?: Json;
  /** API-driven inbound provisioning apps (inbound.ts), with the records they have staged. */
  inboundApps?: InboundSeedApp[];
  /** The provisioning log, in processing order: each entry with the time it can be read from. */
  provisioningLogs?: { visibleAt: number; entry: Json }[];
  /** Times (epoch ms) of the bulkUpload calls of the last 24 hours, for the daily quota. */
  inboundCalls?: number[];
}

// Directory role template ids (learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference).
export const DIRECTORY_ROLE_IDS: Record<string, string> = {
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
  'Privileged Authentication Administrator': '7be44c8a-adaf-4e2a-84d6-ab2649e08a13',
  'User Administrator': 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  'Helpdesk Administrator': '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  'Authentication Administrator': 'c4e39bd9-1100-46d3-8c65-fb160da0071f',
  'Privileged Role Administrator': 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  'Security Administrator': '194ae4cb-b126-40b2-bd5b-6091b380977d',
  'Exchange Administrator': '29232cdf-9323-42fd-ade2-1d097af3e4de',
};

export const DEFAULT_DIRECTORY_ROLES: string[] = [];

/**
 * App roles of a simulator started without seed.tenant.roles: the least set the bridge needs in its
 * widest configuration (universal-sync, graph.allowTenantDirSync, groups), as src/graph/permissions.ts
 * computes it (a unit test keeps the two equal). The bridge's embedded simulator and the test
 * harness grant the least set of their own config instead. Password changes of existing users
 * (User-PasswordProfile.ReadWrite.All) are not in it.
 */
export const DEFAULT_ROLES = ['User.ReadWrite.All', 'RoleManagement.Read.Directory', 'Organization.ReadWrite.All', 'Device.Read.All', 'Group.ReadWrite.All'];
