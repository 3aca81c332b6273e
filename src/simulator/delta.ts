// users/delta and groups/delta: an initial round returns every object (paged with $skiptoken)
// and ends with an @odata.deltaLink; following it returns what changed since, soft-deleted objects
// as {"id", "@removed": {"reason": "changed"}} and hard-deleted ones with reason "deleted". For
// groups, members@delta lists the current members and those removed since; for users,
// manager@delta holds the current manager (empty when there is none).
import { GraphError, badRequest } from './errors';
import { GROUP_DEFAULT_PROPERTIES, USER_DEFAULT_PROPERTIES, contextUrl, project, type SimContext } from './context';
import type { GroupObject, UserObject } from './directory';
import { parseSelect } from './odata';
import { groupSchema, userSchema } from './schema';
import type { Json, SimRequest, SimResponse } from './types';

interface DeltaState {
  /** Changes after this sequence number are reported. */
  since: number;
  /** The sequence number the round was taken at (the next deltaLink's since). */
  upto: number;
  offset: number;
  select?: string[];
  /** When the round's delta link was issued (epoch ms) and the directory's delta generation then. */
  at?: number;
  gen?: number;
}

/** Delta links of identity resources live seven days (devblogs.microsoft.com, "Duration of change tracking tokens for identity and education resources"). */
export const DELTA_LINK_LIFETIME_MS = 7 * 24 * 3600 * 1000;

// Graph's answer to an expired delta link: 400 BadRequest, code syncStateNotFound.
const syncStateNotFound = () =>
  new GraphError(400, 'syncStateNotFound', 'The sync state generation is not found. The delta token is expired and data must be synchronized again.');

const encode = (s: DeltaState) => Buffer.from(JSON.stringify(s)).toString('base64url');

function decode(token: string): DeltaState {
  try {
    const s = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as DeltaState;
    if (Number.isInteger(s.since) && Number.isInteger(s.upto) && Number.isInteger(s.offset)) return s;
  } catch {
    /* fall through */
  }
  throw badRequest('Badly formed token.');
}

// Delta items always carry id, whatever $select names; $select=manager asks for manager@delta.
function userItem(u: UserObject, select: string[] | undefined): Json {
  const item: Json = { ...project(u.props, select?.filter((n) => n !== 'manager') ?? USER_DEFAULT_PROPERTIES), id: u.id };
  if (select?.includes('manager')) item['manager@delta'] = u.managerId ? [{ '@odata.type': '#microsoft.graph.user', id: u.managerId }] : [];
  return item;
}

// $select=...,members asks for members@delta; the navigation property is not itself a property.
function groupItem(g: GroupObject, select: string[] | undefined, since: number): Json {
  const item: Json = { ...project(g.props, select?.filter((n) => n !== 'members') ?? GROUP_DEFAULT_PROPERTIES), id: g.id };
  if (select && !select.includes('members')) return item;
  const removed = (g.memberRemovals ?? []).filter((r) => r.seq > since && !g.members.has(r.id));
  item['members@delta'] = [
    ...[...g.members].map((id) => ({ '@odata.type': '#microsoft.graph.user', id })),
    ...removed.map((r) => ({ '@odata.type': '#microsoft.graph.user', id: r.id, '@removed': { reason: 'deleted' } })),
  ];
  return item;
}

export function delta(ctx: SimContext, req: SimRequest, kind: 'user' | 'group'): SimResponse {
  const set = kind === 'user' ? 'users' : 'groups';
  const deltaToken = req.query.get('$deltatoken');
  const skipToken = req.query.get('$skiptoken');
  let state: DeltaState;
  if (skipToken) state = decode(skipToken);
  else if (deltaToken) {
    state = { ...decode(deltaToken), offset: 0 };
    if ((state.gen ?? 0) < ctx.dir.deltaGeneration || (state.at ?? Date.now()) + DELTA_LINK_LIFETIME_MS <= Date.now()) throw syncStateNotFound();
  } else state = { since: 0, upto: ctx.dir.currentSeq, offset: 0, select: parseSelect(req, kind === 'user' ? userSchema : groupSchema) };
  if (deltaToken) state = { ...state, upto: ctx.dir.currentSeq };
  const objects: (UserObject | GroupObject)[] = [...(kind === 'user' ? ctx.dir.users.values() : ctx.dir.groups.values())];
  // Only the page is projected: projecting every changed object for each page made a full read of a
  // large tenant quadratic (50,000 users at 100 a page took minutes of CPU).
  const matching = objects.filter((o) => o.seq > state.since && o.seq <= state.upto).sort((a, b) => a.seq - b.seq);
  const removed: Json[] = [];
  if (state.since > 0) {
    const present = new Set(objects.map((o) => o.id));
    for (const r of ctx.dir.removals)
      if (r.kind === kind && r.seq > state.since && r.seq <= state.upto && !present.has(r.id)) removed.push({ id: r.id, '@removed': { reason: r.reason } });
  }
  const total = matching.length + removed.length;
  const page: Json[] = [];
  for (let i = state.offset; i < Math.min(total, state.offset + ctx.pageSize); i++) {
    if (i >= matching.length) page.push(removed[i - matching.length]);
    else {
      const o = matching[i];
      page.push(o.kind === 'user' ? userItem(o, state.select) : groupItem(o, state.select, state.since));
    }
  }
  const body: Json = { '@odata.context': contextUrl(ctx, `${set}${state.select ? `(${state.select.join(',')})` : ''}`) };
  if (state.offset + ctx.pageSize < total)
    body['@odata.nextLink'] = `${ctx.baseUrl}/v1.0/${set}/delta?$skiptoken=${encode({ ...state, offset: state.offset + ctx.pageSize })}`;
  else
    body['@odata.deltaLink'] =
      `${ctx.baseUrl}/v1.0/${set}/delta?$deltatoken=${encode({ since: state.upto, upto: state.upto, offset: 0, select: state.select, at: Date.now(), gen: ctx.dir.deltaGeneration })}`;
  body.value = page;
  return { status: 200, body };
}
