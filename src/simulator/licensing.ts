// Licences as Entra holds them: each user's licenseAssignmentStates (direct ones with
// assignedByGroup null, inherited ones naming the group) are the truth; assignedLicenses is what
// they make active, and a SKU's seats count each user holding it once, however many ways.
// Group-based licensing (learn.microsoft.com/graph/api/group-assignlicense,
// learn.microsoft.com/entra/identity/users/licensing-groups-resolve-problems) is asynchronous: a
// licence given to a group, a member joining or leaving it, or reprocessLicenseAssignment queue the
// user, and the user's inherited states are worked out on the simulator clock `licenseProcessingMs`
// later, one user at a time in queue order. A user for whom no seat is left gets state Error with
// error CountViolation (the licence is not active and consumes no seat); without a usageLocation the
// tenant's country is used, and with neither the state is Error with error Other.
import { badRequest, odataBadRequest } from './errors';
import { isoSeconds, type SimContext } from './context';
import type { GroupObject, UserObject } from './directory';
import { checkShape, requiredPropertyMissing } from './schema';
import type { Json } from './types';

export interface AssignedLicense {
  skuId: string;
  disabledPlans: string[];
}

export interface LicenseState {
  skuId: string;
  disabledPlans: string[];
  assignedByGroup: string | null;
  state: 'Active' | 'ActiveWithError' | 'Disabled' | 'Error';
  error:
    'None' | 'CountViolation' | 'MutuallyExclusiveViolation' | 'DependencyViolation' | 'ProhibitedInUsageLocationViolation' | 'UniquenessViolation' | 'Other';
  lastUpdatedDateTime: string;
}

export interface LicenseChange {
  addLicenses: AssignedLicense[];
  removeLicenses: string[];
}

/** The addLicenses / removeLicenses body of user and group assignLicense. */
export function parseLicenseChange(body: unknown): LicenseChange {
  const b = (body ?? {}) as Json;
  for (const key of Object.keys(b))
    if (key !== 'addLicenses' && key !== 'removeLicenses')
      throw odataBadRequest(`The parameter '${key}' in the request payload is not a valid parameter for the operation 'assignLicense'.`);
  if (b.addLicenses === undefined || b.addLicenses === null) throw requiredPropertyMissing('addLicenses');
  if (b.removeLicenses === undefined || b.removeLicenses === null) throw requiredPropertyMissing('removeLicenses');
  checkShape('addLicenses', { type: 'array', items: { $ref: '#/schemas/microsoft.graph.assignedLicense' } }, b.addLicenses);
  checkShape('removeLicenses', { type: 'array', items: { type: 'string', format: 'uuid' } }, b.removeLicenses);
  const add = (b.addLicenses as Json[]).map((l) => ({
    skuId: String(l.skuId ?? '').toLowerCase(),
    disabledPlans: (l.disabledPlans as string[] | undefined) ?? [],
  }));
  return { addLicenses: add, removeLicenses: (b.removeLicenses as string[]).map((s) => s.toLowerCase()) };
}

export const invalidLicense = (skuId: string) => badRequest(`License ${skuId} does not correspond to a valid company License.`);

const isActive = (s: LicenseState) => s.state === 'Active' || s.state === 'ActiveWithError';

/** The user's states; a seeded user that lists only assignedLicenses holds them directly. */
function statesOf(user: UserObject): LicenseState[] {
  if (Array.isArray(user.props.licenseAssignmentStates)) return user.props.licenseAssignmentStates as LicenseState[];
  return ((user.props.assignedLicenses as AssignedLicense[] | undefined) ?? []).map((l) => ({
    skuId: String(l.skuId).toLowerCase(),
    disabledPlans: l.disabledPlans ?? [],
    assignedByGroup: null,
    state: 'Active',
    error: 'None',
    lastUpdatedDateTime: isoSeconds(),
  }));
}

export const directLicenses = (user: UserObject): AssignedLicense[] =>
  statesOf(user)
    .filter((s) => s.assignedByGroup === null)
    .map((s) => ({ skuId: s.skuId, disabledPlans: s.disabledPlans }));

/** SKUs the user holds a seat of (an active assignment of any kind). */
export const heldSkus = (user: UserObject): Set<string> =>
  new Set(
    statesOf(user)
      .filter(isActive)
      .map((s) => s.skuId.toLowerCase()),
  );

/** Replaces the user's states; seats and assignedLicenses follow. */
function setStates(ctx: SimContext, user: UserObject, states: LicenseState[]): void {
  const before = heldSkus(user);
  user.props.licenseAssignmentStates = states;
  const after = heldSkus(user);
  for (const s of before) if (!after.has(s)) ctx.dir.skus.get(s)!.consumed--;
  for (const s of after) if (!before.has(s)) ctx.dir.skus.get(s)!.consumed++;
  const seen = new Set<string>();
  user.props.assignedLicenses = states
    .filter((s) => isActive(s) && !seen.has(s.skuId) && seen.add(s.skuId))
    .map((s) => ({ disabledPlans: s.disabledPlans, skuId: s.skuId }));
  ctx.dir.touch(user);
}

/** The user's direct assignments become `direct`; inherited ones are kept as they are. */
export function setDirectLicenses(ctx: SimContext, user: UserObject, direct: AssignedLicense[]): void {
  const at = isoSeconds();
  const inherited = statesOf(user).filter((s) => s.assignedByGroup !== null);
  const old = statesOf(user);
  const states: LicenseState[] = direct.map((l) => {
    const prev = old.find((s) => s.assignedByGroup === null && s.skuId === l.skuId);
    return {
      skuId: l.skuId,
      disabledPlans: l.disabledPlans,
      assignedByGroup: null,
      state: 'Active',
      error: 'None',
      lastUpdatedDateTime: prev?.lastUpdatedDateTime ?? at,
    };
  });
  setStates(ctx, user, [...states, ...inherited]);
}

const groupLicenses = (g: GroupObject): AssignedLicense[] => (g.props.assignedLicenses as AssignedLicense[] | undefined) ?? [];

/** Queues users for licence processing after a change to a licensed group (or a reprocess request). */
export function queueLicensing(ctx: SimContext, userIds: Iterable<string>): void {
  const due = ctx.clock() + ctx.licenseProcessingMs;
  for (const id of userIds) if (ctx.dir.users.has(id) && !ctx.dir.licenseQueue.has(id)) ctx.dir.licenseQueue.set(id, due);
}

/** After a membership change of `group`: its members' licences change only when it carries any. */
export function queueIfLicensed(ctx: SimContext, group: GroupObject, userIds: Iterable<string>): void {
  if (groupLicenses(group).length) queueLicensing(ctx, userIds);
}

/** Works out the inherited states of every queued user whose time has come. */
export function processDueLicensing(ctx: SimContext): void {
  const queue = ctx.dir.licenseQueue;
  if (!queue.size) return;
  const now = ctx.clock();
  // Every entry waits the same delay, so the queue is in order of due time.
  for (const [id, due] of queue) {
    if (due > now) break;
    queue.delete(id);
    const user = ctx.dir.users.get(id);
    if (user) processUser(ctx, user);
  }
}

function processUser(ctx: SimContext, user: UserObject): void {
  const old = statesOf(user);
  const heldBefore = heldSkus(user);
  const states = old.filter((s) => s.assignedByGroup === null);
  const granted = new Set(states.filter(isActive).map((s) => s.skuId));
  const location = user.props.usageLocation ?? ctx.dir.organization.countryLetterCode;
  const at = isoSeconds();
  for (const g of ctx.dir.groups.values()) {
    if (!g.members.has(user.id)) continue;
    for (const l of groupLicenses(g)) {
      const sku = ctx.dir.skus.get(l.skuId)!;
      const prev = old.find((s) => s.assignedByGroup === g.id && s.skuId === l.skuId);
      let error: LicenseState['error'] = 'None';
      if (!location) error = 'Other';
      // A seat the user does not hold yet, from what is left (setStates takes it).
      else if (!granted.has(l.skuId) && !heldBefore.has(l.skuId) && sku.consumed >= sku.seats) error = 'CountViolation';
      const state: LicenseState['state'] = error === 'None' ? 'Active' : 'Error';
      if (state === 'Active') granted.add(l.skuId);
      const same = prev && prev.state === state && prev.error === error;
      states.push({
        skuId: l.skuId,
        disabledPlans: l.disabledPlans,
        assignedByGroup: g.id,
        state,
        error,
        lastUpdatedDateTime: same ? prev.lastUpdatedDateTime : at,
      });
    }
  }
  setStates(ctx, user, states);
}

/** POST /groups/{id}/assignLicense: 202 with the group; its members are processed later. */
export function assignGroupLicense(ctx: SimContext, group: GroupObject, body: unknown): void {
  const change = parseLicenseChange(body);
  const current = groupLicenses(group);
  for (const l of change.addLicenses) if (!ctx.dir.skus.has(l.skuId)) throw invalidLicense(l.skuId);
  for (const s of change.removeLicenses) {
    if (!ctx.dir.skus.has(s)) throw invalidLicense(s);
    if (!current.some((c) => c.skuId === s)) throw badRequest(`Group does not have a corresponding license for ${s}.`);
  }
  if (group.props.securityEnabled !== true) throw badRequest('Licenses can only be assigned to security enabled groups.');
  const next = current.filter((c) => !change.removeLicenses.includes(c.skuId) && !change.addLicenses.some((a) => a.skuId === c.skuId));
  group.props.assignedLicenses = [...next, ...change.addLicenses];
  ctx.dir.touch(group);
  queueLicensing(ctx, [...group.members]);
}
