// SPEC section 2 as data: one row per Graph user property the bridge writes, the SCIM attribute it
// comes from, and the attribute set (basic / extended / allExtended) it belongs to. A mode writes the
// rows of its sets and never touches the others. Targets and lengths follow schemas/graph-schemas.json
// (a unit test checks that no row targets a read-only property and that maxLength matches Graph's).
import type { Mode } from '../config';
import { BRIDGE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA } from '../rules/identity';

export type AttributeSet = 'basic' | 'extended' | 'allExtended';

const setsByMode: Record<Mode, readonly AttributeSet[]> = {
  'license-only': [],
  'profile-sync': ['basic'],
  'user-sync': ['basic', 'extended'],
  'universal-sync': ['basic', 'extended', 'allExtended'],
};

export function attributeSetsFor(mode: Mode): readonly AttributeSet[] {
  return setsByMode[mode];
}

export interface ScimMultiValue {
  value?: unknown;
  type?: string;
  primary?: boolean | string;
  display?: string;
  [key: string]: unknown;
}

export interface ScimAddress {
  type?: string;
  primary?: boolean | string;
  streetAddress?: string;
  locality?: string;
  region?: string;
  postalCode?: string;
  country?: string;
  formatted?: string;
}

/** A SCIM user as the store keeps it (core attributes plus the enterprise and bridge extensions). */
export interface ScimUser {
  id?: string;
  externalId?: string;
  userName: string;
  displayName?: string;
  name?: { givenName?: string; familyName?: string; formatted?: string; [key: string]: unknown };
  title?: string;
  userType?: string;
  preferredLanguage?: string;
  active?: boolean | string;
  password?: string;
  emails?: ScimMultiValue[];
  phoneNumbers?: ScimMultiValue[];
  addresses?: ScimAddress[];
  entitlements?: ScimMultiValue[];
  groups?: ScimMultiValue[];
  [key: string]: unknown;
}

export interface MappingContext {
  /** config defaults.usageLocation */
  defaultsUsageLocation?: string;
}

export type GraphScalar = string | boolean | null;
export type GraphValue = GraphScalar | string[];

export interface MappingRow {
  /** The SCIM attribute, in SCIM path syntax (for plans, logs and tests). */
  scim: string;
  /** Graph user property; a dotted path for a member of a complex property (employeeOrgData.costCenter). */
  graph: string;
  set: AttributeSet;
  /** The Graph value, or undefined when the SCIM user does not carry the attribute. */
  read: (user: ScimUser, ctx: MappingContext) => GraphValue | undefined;
  /** Graph's documented maximum length; longer values are cut and reported. */
  maxLength?: number;
  /**
   * What to write once SCIM no longer carries the attribute: null (or [] for collections), or 'keep'
   * for properties Graph will not clear (displayName "can't be cleared", usageLocation "Not nullable").
   */
  clear: null | [] | 'keep';
}

// --- readers -------------------------------------------------------------------------------------

export function enterpriseOf(user: ScimUser): Record<string, unknown> {
  return (user[ENTERPRISE_USER_SCHEMA] as Record<string, unknown> | undefined) ?? {};
}

export function bridgeOf(user: ScimUser): Record<string, unknown> {
  return (user[BRIDGE_USER_SCHEMA] as Record<string, unknown> | undefined) ?? {};
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s = String(value).trim();
  return s === '' ? undefined : s;
}

function isPrimary(v: { primary?: boolean | string }): boolean {
  return v.primary === true || String(v.primary).toLowerCase() === 'true';
}

function typed<T extends { type?: string }>(values: T[] | undefined, type: string): T[] {
  return (values ?? []).filter((v) => String(v.type ?? '').toLowerCase() === type);
}

/** SCIM active: boolean, or Entra's "True"/"False" strings; absent means active (RFC 7643 section 4.1.1). */
export function isActive(user: ScimUser): boolean {
  if (user.active === undefined || user.active === null) return true;
  return user.active === true || String(user.active).toLowerCase() === 'true';
}

function primaryOrWorkEmail(user: ScimUser): string | undefined {
  const emails = user.emails ?? [];
  const chosen = emails.find(isPrimary) ?? typed(emails, 'work')[0];
  return text(chosen?.value);
}

function phone(user: ScimUser, type: string): string | undefined {
  return text(typed(user.phoneNumbers, type)[0]?.value);
}

function workAddress(user: ScimUser, part: keyof ScimAddress): string | undefined {
  return text(typed(user.addresses, 'work')[0]?.[part]);
}

function displayNameOf(user: ScimUser): string | undefined {
  const given = text(user.name?.givenName);
  const family = text(user.name?.familyName);
  return (
    text(user.displayName) ?? text(user.name?.formatted) ?? (given || family ? [given, family].filter(Boolean).join(' ') : undefined) ?? text(user.userName)
  );
}

// Graph's mailNickname: ASCII only, none of @ ( ) \ [ ] " ; : < > , / ' or space, at most 64, no
// leading, trailing or doubled dots (user and group resource docs; IdFix's mailNickname rules).
export function sanitizeMailNickname(raw: string): string {
  const ascii = raw.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  let nick = ascii.replace(/[^A-Za-z0-9!#$%&*+\-=?^_`{|}~.]/g, '');
  nick = nick
    .replace(/\.{2,}/g, '.')
    .replace(/^\.+/, '')
    .slice(0, 64)
    .replace(/\.+$/, '');
  return nick;
}

function mailNicknameOf(user: ScimUser): string | undefined {
  const explicit = text(bridgeOf(user).mailNickname);
  const source = explicit ?? text(user.userName)?.split('@')[0];
  if (!source) return undefined;
  return sanitizeMailNickname(source) || undefined;
}

function usageLocationOf(user: ScimUser, ctx: MappingContext): string | undefined {
  return text(bridgeOf(user).usageLocation)?.toUpperCase() ?? ctx.defaultsUsageLocation?.toUpperCase();
}

/** Graph's employeeHireDate is an Edm.DateTimeOffset; a bare date becomes midnight UTC. */
function hireDateOf(user: ScimUser): string | undefined {
  const raw = text(bridgeOf(user).employeeHireDate) ?? text(enterpriseOf(user).employeeHireDate);
  if (!raw) return undefined;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace('.000Z', 'Z');
}

function otherMailsOf(user: ScimUser): string[] | undefined {
  const values = typed(user.emails, 'other')
    .map((e) => text(e.value))
    .filter((v): v is string => Boolean(v));
  return values.length ? [...new Set(values)] : undefined;
}

const fromEnterprise = (name: string) => (user: ScimUser) => text(enterpriseOf(user)[name]);
const fromBridge = (name: string) => (user: ScimUser) => text(bridgeOf(user)[name]);

const extensionAttributeRows: MappingRow[] = Array.from({ length: 15 }, (_, i) => ({
  scim: `${BRIDGE_USER_SCHEMA}:extensionAttribute${i + 1}`,
  graph: `onPremisesExtensionAttributes.extensionAttribute${i + 1}`,
  set: 'allExtended' as const,
  read: fromBridge(`extensionAttribute${i + 1}`),
  maxLength: 1024,
  clear: null,
}));

// --- the table -----------------------------------------------------------------------------------

export const userMapping: readonly MappingRow[] = [
  // basic
  { scim: 'userName', graph: 'userPrincipalName', set: 'basic', read: (u) => text(u.userName), clear: 'keep' },
  { scim: 'displayName', graph: 'displayName', set: 'basic', read: displayNameOf, maxLength: 256, clear: 'keep' },
  { scim: 'name.givenName', graph: 'givenName', set: 'basic', read: (u) => text(u.name?.givenName), maxLength: 64, clear: null },
  { scim: 'name.familyName', graph: 'surname', set: 'basic', read: (u) => text(u.name?.familyName), maxLength: 64, clear: null },
  { scim: 'active', graph: 'accountEnabled', set: 'basic', read: isActive, clear: 'keep' },
  { scim: `${BRIDGE_USER_SCHEMA}:mailNickname`, graph: 'mailNickname', set: 'basic', read: mailNicknameOf, maxLength: 64, clear: 'keep' },
  { scim: `${BRIDGE_USER_SCHEMA}:usageLocation`, graph: 'usageLocation', set: 'basic', read: usageLocationOf, clear: 'keep' },
  { scim: `${BRIDGE_USER_SCHEMA}:employeeHireDate`, graph: 'employeeHireDate', set: 'basic', read: hireDateOf, clear: null },
  // extended
  { scim: 'title', graph: 'jobTitle', set: 'extended', read: (u) => text(u.title), maxLength: 128, clear: null },
  { scim: 'emails[primary eq true or type eq "work"].value', graph: 'mail', set: 'extended', read: primaryOrWorkEmail, clear: null },
  { scim: 'emails[type eq "other"].value', graph: 'otherMails', set: 'extended', read: otherMailsOf, clear: [] },
  {
    scim: 'phoneNumbers[type eq "work"].value',
    graph: 'businessPhones',
    set: 'extended',
    clear: [],
    // A string collection in which Graph accepts only one number.
    read: (u) => {
      const p = phone(u, 'work');
      return p ? [p] : undefined;
    },
  },
  { scim: 'phoneNumbers[type eq "mobile"].value', graph: 'mobilePhone', set: 'extended', read: (u) => phone(u, 'mobile'), maxLength: 64, clear: null },
  { scim: 'phoneNumbers[type eq "fax"].value', graph: 'faxNumber', set: 'extended', read: (u) => phone(u, 'fax'), clear: null },
  {
    scim: 'addresses[type eq "work"].streetAddress',
    graph: 'streetAddress',
    set: 'extended',
    read: (u) => workAddress(u, 'streetAddress'),
    maxLength: 1024,
    clear: null,
  },
  { scim: 'addresses[type eq "work"].locality', graph: 'city', set: 'extended', read: (u) => workAddress(u, 'locality'), maxLength: 128, clear: null },
  { scim: 'addresses[type eq "work"].region', graph: 'state', set: 'extended', read: (u) => workAddress(u, 'region'), maxLength: 128, clear: null },
  { scim: 'addresses[type eq "work"].postalCode', graph: 'postalCode', set: 'extended', read: (u) => workAddress(u, 'postalCode'), maxLength: 40, clear: null },
  { scim: 'addresses[type eq "work"].country', graph: 'country', set: 'extended', read: (u) => workAddress(u, 'country'), maxLength: 128, clear: null },
  { scim: 'preferredLanguage', graph: 'preferredLanguage', set: 'extended', read: (u) => text(u.preferredLanguage), clear: null },
  { scim: 'userType', graph: 'employeeType', set: 'extended', read: (u) => text(u.userType), clear: null },
  {
    scim: `${ENTERPRISE_USER_SCHEMA}:employeeNumber`,
    graph: 'employeeId',
    set: 'extended',
    read: fromEnterprise('employeeNumber'),
    maxLength: 16,
    clear: null,
  },
  { scim: `${ENTERPRISE_USER_SCHEMA}:department`, graph: 'department', set: 'extended', read: fromEnterprise('department'), maxLength: 64, clear: null },
  { scim: `${ENTERPRISE_USER_SCHEMA}:organization`, graph: 'companyName', set: 'extended', read: fromEnterprise('organization'), maxLength: 64, clear: null },
  { scim: `${ENTERPRISE_USER_SCHEMA}:costCenter`, graph: 'employeeOrgData.costCenter', set: 'extended', read: fromEnterprise('costCenter'), clear: null },
  { scim: `${ENTERPRISE_USER_SCHEMA}:division`, graph: 'employeeOrgData.division', set: 'extended', read: fromEnterprise('division'), clear: null },
  { scim: `${BRIDGE_USER_SCHEMA}:officeLocation`, graph: 'officeLocation', set: 'extended', read: fromBridge('officeLocation'), clear: null },
  // all extended
  ...extensionAttributeRows,
];

/**
 * Graph writes the bridge makes outside the property table, by attribute set: the manager link
 * (PUT/DELETE /users/{id}/manager/$ref) is extended; passwordProfile is basic (create, and on change).
 */
export const managerSet: AttributeSet = 'extended';
export const passwordSet: AttributeSet = 'basic';

export function rowsFor(mode: Mode): MappingRow[] {
  const sets = attributeSetsFor(mode);
  return userMapping.filter((row) => sets.includes(row.set));
}

/** Top-level Graph properties a mode manages: for $select on lookups, delta queries and drift. */
export function managedGraphProperties(mode: Mode): string[] {
  return [...new Set(rowsFor(mode).map((row) => row.graph.split('.')[0]))];
}

/** Graph properties that are read-only for users synced from on-premises AD (graph-schemas.json). */
export const readOnlyWhenSyncedFromOnPrem: readonly string[] = ['businessPhones', 'mobilePhone', 'onPremisesExtensionAttributes'];
