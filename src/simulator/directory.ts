// The simulated tenant: users, groups, devices, SKUs, the organization object and the recycle bin,
// held in memory. Every change stamps the object with a sequence number, which is what delta
// queries page over. Seeded objects are taken as given (they stand for what already exists).
import { randomUUID } from 'node:crypto';
import { InboundState } from './inbound';
import { DIRECTORY_ROLE_IDS, type Json, type SeedDomain, type SeedObject, type SeedSku } from './types';

export interface UserObject {
  kind: 'user';
  id: string;
  props: Json;
  password?: string;
  managerId?: string;
  /** Directory role template ids assigned to the user (an administrator when not empty). */
  directoryRoles?: string[];
  /** Groups a soft-deleted user belonged to, given back on restore. */
  memberOf?: string[];
  /** Epoch ms from which collection queries ($filter lists) see the object. */
  visibleAt?: number;
  seq: number;
}

export interface GroupObject {
  kind: 'group';
  id: string;
  props: Json;
  members: Set<string>;
  /** Members removed, with the sequence number of the removal, for members@delta. */
  memberRemovals?: { id: string; seq: number }[];
  /** Epoch ms from which collection queries ($filter lists) see the object. */
  visibleAt?: number;
  seq: number;
}

export interface Removal {
  kind: 'user' | 'group';
  id: string;
  seq: number;
  reason: 'changed' | 'deleted';
}

export interface Sku extends SeedSku {
  consumed: number;
}

const DEFAULT_DOMAINS: SeedDomain[] = [
  { name: 'sim.onmicrosoft.com', isInitial: true },
  { name: 'example.com', isDefault: true },
];

const DEFAULT_SKUS: SeedSku[] = [
  { skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900', skuPartNumber: 'ENTERPRISEPACK', seats: 25 },
  { skuId: '4b9405b0-7788-4568-add1-99614e613b69', skuPartNumber: 'EXCHANGESTANDARD', seats: 10 },
];

export class Directory {
  readonly tenantId: string;
  readonly domains: SeedDomain[];
  readonly organization: Json;
  readonly skus = new Map<string, Sku>();
  readonly users = new Map<string, UserObject>();
  readonly groups = new Map<string, GroupObject>();
  readonly devices = new Map<string, Json>();
  /** Soft-deleted users and groups (directory/deletedItems), restorable for 30 days in Entra. */
  readonly deleted = new Map<string, UserObject | GroupObject>();
  readonly removals: Removal[] = [];
  /** API-driven inbound provisioning: apps, staged records, the provisioning log. */
  readonly inbound: InboundState;
  /** Users waiting for group-based licence processing, with the simulated time it is due (licensing.ts). */
  readonly licenseQueue = new Map<string, number>();
  /** Delta links issued before the current generation are expired (expireDeltaLinks). */
  deltaGeneration = 0;
  private readonly upnIndex = new Map<string, string>();
  /** Holders of each proxy address (lower case) among the users, for the uniqueness check of mail. */
  private readonly proxyIndex = new Map<string, Set<string>>();
  /** Users by lower-case onPremisesImmutableId, noted on every change of a user (touch); checked on each read. */
  private readonly immutableIndex = new Map<string, Set<string>>();
  private seq = 0;

  constructor(
    readonly seed: SeedObject,
    tenantId: string,
  ) {
    this.tenantId = tenantId;
    this.domains = (seed.domains?.length ? seed.domains : DEFAULT_DOMAINS).map((d) => ({ type: 'Managed', ...d }));
    if (!this.domains.some((d) => d.isDefault)) this.domains[0].isDefault = true;
    if (!this.domains.some((d) => d.isInitial)) this.domains[0].isInitial = true;
    this.organization = this.buildOrganization(seed);
    for (const sku of seed.skus ?? DEFAULT_SKUS) this.skus.set(sku.skuId.toLowerCase(), { ...sku, consumed: 0 });
    for (const u of seed.users ?? []) this.seedUser(u);
    for (const u of seed.users ?? []) if (u.manager) this.userByKey(String(u.id ?? u.userPrincipalName))!.managerId = this.userByKey(u.manager)?.id;
    for (const g of seed.groups ?? []) this.seedGroup(g);
    // A member that is a group seeded after its parent (a saved tenant lists groups in any order).
    for (const g of seed.groups ?? []) {
      const group = g.id === undefined ? undefined : this.groups.get(String(g.id));
      for (const m of (g.members as string[] | undefined) ?? []) if (group && this.groups.has(m)) group.members.add(m);
    }
    for (const d of seed.devices ?? []) {
      const id = String(d.id ?? randomUUID());
      this.devices.set(id, { id, deletedDateTime: null, accountEnabled: true, trustType: 'AzureAd', ...d });
    }
    this.inbound = new InboundState(seed, tenantId);
  }

  /** Every delta link issued so far answers syncStateNotFound, as one older than seven days does. */
  expireDeltaLinks(): void {
    this.deltaGeneration++;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  get currentSeq(): number {
    return this.seq;
  }

  /** Restores the change sequence of a saved tenant, so delta links issued before a restart stay valid. */
  advanceSeq(to: number): void {
    if (to > this.seq) this.seq = to;
  }

  touch(obj: UserObject | GroupObject): void {
    obj.seq = this.nextSeq();
    if (obj.kind === 'user') this.noteImmutableId(obj);
  }

  /** The users whose onPremisesImmutableId is `value` without regard to case (what a $filter on it reads). */
  usersByImmutableId(value: string): UserObject[] {
    const key = value.toLowerCase();
    const holders = this.immutableIndex.get(key);
    if (!holders) return [];
    const found: UserObject[] = [];
    for (const id of holders) {
      const user = this.users.get(id);
      const current = user?.props.onPremisesImmutableId;
      // Entries are added on every change and checked here: a user deleted or given another value drops out.
      if (user && typeof current === 'string' && current.toLowerCase() === key) found.push(user);
      else holders.delete(id);
    }
    if (!holders.size) this.immutableIndex.delete(key);
    return found;
  }

  /** Whether a user other than `exceptId` holds exactly this onPremisesImmutableId. */
  immutableIdTaken(value: string, exceptId?: string): boolean {
    return this.usersByImmutableId(value).some((u) => u.id !== exceptId && u.props.onPremisesImmutableId === value);
  }

  private noteImmutableId(user: UserObject): void {
    const value = user.props.onPremisesImmutableId;
    if (typeof value !== 'string') return;
    const key = value.toLowerCase();
    const holders = this.immutableIndex.get(key);
    if (holders) holders.add(user.id);
    else this.immutableIndex.set(key, new Set([user.id]));
  }

  domain(name: string): SeedDomain | undefined {
    const lower = name.toLowerCase();
    return this.domains.find((d) => d.name.toLowerCase() === lower);
  }

  /** A user by object id or by userPrincipalName (case-insensitive), as /users/{id | userPrincipalName} resolves. */
  userByKey(key: string): UserObject | undefined {
    const byId = this.users.get(key) ?? this.users.get(key.toLowerCase());
    if (byId) return byId;
    const id = this.upnIndex.get(key.toLowerCase());
    return id ? this.users.get(id) : undefined;
  }

  userByUpn(upn: string): UserObject | undefined {
    const id = this.upnIndex.get(upn.toLowerCase());
    return id ? this.users.get(id) : undefined;
  }

  upnTaken(upn: string, exceptId?: string): boolean {
    const id = this.upnIndex.get(upn.toLowerCase());
    return id !== undefined && id !== exceptId;
  }

  /** Whether a user other than `exceptId` holds this proxy address (case-insensitive). */
  proxyTaken(address: string, exceptId?: string): boolean {
    const holders = this.proxyIndex.get(address.toLowerCase());
    return holders !== undefined && [...holders].some((id) => id !== exceptId);
  }

  /** Replaces the user's proxyAddresses (the only way they change once the user is in the directory). */
  setProxyAddresses(user: UserObject, addresses: string[]): void {
    this.indexProxies(user, false);
    user.props.proxyAddresses = addresses;
    this.indexProxies(user, true);
  }

  addUser(user: UserObject): void {
    this.users.set(user.id, user);
    this.upnIndex.set(String(user.props.userPrincipalName).toLowerCase(), user.id);
    this.indexProxies(user, true);
    this.touch(user);
  }

  renameUser(user: UserObject, upn: string): void {
    this.upnIndex.delete(String(user.props.userPrincipalName).toLowerCase());
    user.props.userPrincipalName = upn;
    this.upnIndex.set(upn.toLowerCase(), user.id);
  }

  removeUser(user: UserObject, reason: Removal['reason']): void {
    this.users.delete(user.id);
    this.upnIndex.delete(String(user.props.userPrincipalName).toLowerCase());
    this.indexProxies(user, false);
    this.removals.push({ kind: 'user', id: user.id, seq: this.nextSeq(), reason });
  }

  /** Drops a membership, remembering it for groups/delta; false when it was not a member. */
  removeMember(group: GroupObject, memberId: string): boolean {
    if (!group.members.delete(memberId)) return false;
    (group.memberRemovals ??= []).push({ id: memberId, seq: this.nextSeq() });
    this.touch(group);
    return true;
  }

  removeGroup(group: GroupObject, reason: Removal['reason']): void {
    this.groups.delete(group.id);
    this.removals.push({ kind: 'group', id: group.id, seq: this.nextSeq(), reason });
  }

  /** Seats in use per SKU; Entra frees a deleted user's seats. */
  adjustSeats(licenses: unknown, delta: 1 | -1): void {
    for (const l of (licenses as { skuId: string }[] | undefined) ?? []) {
      const sku = this.skus.get(String(l.skuId).toLowerCase());
      if (sku) sku.consumed += delta;
    }
  }

  private indexProxies(user: UserObject, add: boolean): void {
    for (const p of (user.props.proxyAddresses as string[] | undefined) ?? []) {
      const key = String(p).toLowerCase();
      const holders = this.proxyIndex.get(key);
      if (add) this.proxyIndex.set(key, (holders ?? new Set<string>()).add(user.id));
      else if (holders?.delete(user.id) && !holders.size) this.proxyIndex.delete(key);
    }
  }

  private seedUser(u: Json): void {
    const { manager: _manager, password, directoryRoles, ...props } = u;
    const id = String(props.id ?? randomUUID());
    const user: UserObject = {
      kind: 'user',
      id,
      props: {
        businessPhones: [],
        assignedLicenses: [],
        otherMails: [],
        createdDateTime: new Date().toISOString(),
        proxyAddresses: typeof props.mail === 'string' ? [`SMTP:${props.mail}`] : [],
        ...props,
        id,
      },
      password: typeof password === 'string' ? password : undefined,
      ...(Array.isArray(directoryRoles) && directoryRoles.length
        ? { directoryRoles: directoryRoles.map((r) => DIRECTORY_ROLE_IDS[String(r)] ?? String(r)) }
        : {}),
      seq: 0,
    };
    this.addUser(user);
    this.adjustSeats(user.props.assignedLicenses, 1);
  }

  private seedGroup(g: Json): void {
    const { members, ...props } = g;
    const id = String(props.id ?? randomUUID());
    const group: GroupObject = {
      kind: 'group',
      id,
      props: { groupTypes: [], createdDateTime: new Date().toISOString(), ...props, id },
      members: new Set(),
      seq: 0,
    };
    for (const m of (members as string[] | undefined) ?? []) {
      const member = this.userByKey(m) ?? this.groups.get(m);
      if (member) group.members.add(member.id);
    }
    this.groups.set(id, group);
    this.touch(group);
  }

  private buildOrganization(seed: SeedObject): Json {
    const verifiedDomains = this.domains.map((d) => ({
      capabilities: 'Email, OfficeCommunicationsOnline',
      isDefault: Boolean(d.isDefault),
      isInitial: Boolean(d.isInitial),
      name: d.name,
      type: d.type,
    }));
    return {
      id: this.tenantId,
      deletedDateTime: null,
      businessPhones: [],
      city: null,
      country: null,
      countryLetterCode: 'US',
      createdDateTime: '2020-01-01T00:00:00Z',
      defaultUsageLocation: null,
      displayName: seed.tenant?.displayName ?? 'Simulated Tenant',
      marketingNotificationEmails: [],
      onPremisesLastSyncDateTime: null,
      onPremisesSyncEnabled: null,
      postalCode: null,
      preferredLanguage: 'en',
      securityComplianceNotificationMails: [],
      securityComplianceNotificationPhones: [],
      state: null,
      street: null,
      technicalNotificationMails: [],
      tenantType: 'AAD',
      assignedPlans: [],
      provisionedPlans: [],
      ...seed.organization,
      verifiedDomains,
    };
  }
}
