// Packs planned ops into Graph JSON $batch requests: at most 20 requests each
// (learn.microsoft.com/graph/json-batching), an op and everything it dependsOn in the same
// batch because Graph resolves dependsOn only within one, and a batch is either fully parallel
// or one dependency chain (Graph: "Batch should be either fully sequential or fully parallel"),
// so each dependency group gets a batch of its own while independent ops share batches of 20.
// A group too large for one batch keeps its head and defers the rest; the level-triggered
// planner plans them again.
import type { GraphOp } from './ops';

export const MAX_BATCH = 20;

export interface Packed {
  batches: GraphOp[][];
  deferred: GraphOp[];
}

/** Groups ops into connected dependency sets, in the order their first op was planned. */
function dependencyGroups(ops: GraphOp[]): GraphOp[][] {
  const byId = new Map(ops.map((op) => [op.id, op]));
  const root = new Map<string, string>();
  const find = (id: string): string => {
    let r = id;
    while (root.get(r) !== r) r = root.get(r)!;
    root.set(id, r);
    return r;
  };
  ops.forEach((op) => root.set(op.id, op.id));
  for (const op of ops) {
    for (const dep of op.dependsOn ?? []) if (byId.has(dep)) root.set(find(op.id), find(dep));
  }
  const groups = new Map<string, GraphOp[]>();
  for (const op of ops) {
    const r = find(op.id);
    if (!groups.has(r)) groups.set(r, []);
    groups.get(r)!.push(op);
  }
  return [...groups.values()];
}

/** Drops dependsOn entries that point outside the batch (Graph rejects those with 400). */
function localise(batch: GraphOp[]): GraphOp[] {
  const ids = new Set(batch.map((op) => op.id));
  return batch.map((op) => {
    if (!op.dependsOn) return op;
    const deps = op.dependsOn.filter((d) => ids.has(d));
    const { dependsOn: _drop, ...rest } = op;
    return deps.length ? { ...rest, dependsOn: deps } : rest;
  });
}

export function packBatches(ops: GraphOp[], max = MAX_BATCH): Packed {
  const batches: GraphOp[][] = [];
  const deferred: GraphOp[] = [];
  let current: GraphOp[] = [];
  for (let group of dependencyGroups(ops)) {
    if (group.length > max) {
      deferred.push(...group.slice(max));
      group = group.slice(0, max);
    }
    if (group.length > 1) {
      batches.push(localise(group));
      continue;
    }
    if (current.length + 1 > max) {
      batches.push(localise(current));
      current = [];
    }
    current.push(group[0]);
  }
  if (current.length) batches.push(localise(current));
  // An op whose dependency was deferred must wait too.
  const deferredIds = new Set(deferred.map((op) => op.id));
  return {
    batches: batches.map((b) => b.filter((op) => !(op.dependsOn ?? []).some((d) => deferredIds.has(d)))),
    deferred,
  };
}
