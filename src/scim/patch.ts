// RFC 7644 section 3.5.2 PATCH, as Entra ID, Okta and OneLogin send it: ops in any case,
// no-path values whose keys are paths, filtered paths that create the element they name when
// nothing matches (Entra's `emails[type eq "work"].value`), remove by value list, bare-string
// members and manager. Group members become MemberChanges applied in SQL, never a list rewrite.
// A path or no-path key under an extension schema the bridge does not implement (Entra's custom
// extension attributes) is ignored, in any op and either content type (foreign-extensions.ts).
import type { FilterNode } from '../store';
import type { MemberChanges, MemberRef, MemberView } from '../store';
import { MAX_VALUES, coerceAttr, coerceComplex, coerceSimple, isObject, isUnassigned, singlePrimary, tooManyValues, type UnknownPolicy } from './coerce';
import { equalities, matchesElement, parseValueFilter } from './filter';
import { foreignExtensionOf, noteExtension } from './foreign-extensions';
import { canonicalOrder, checkRequired, normaliseMembers } from './resource-input';
import { findSub, resolvePath, resolveUnqualified, type AttrDef, type ResourceTypeDef, type ResolvedPath, type SchemaDef } from './schema';
import { invalidPath, invalidSyntax, invalidValue, mutability, noTarget } from '../errors';

export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const MAX_OPERATIONS = 1000;

type Op = 'add' | 'remove' | 'replace';

type Target =
  { kind: 'resource' } | { kind: 'extension'; schema: SchemaDef } | { kind: 'attr'; schema?: string; attr: AttrDef; sub?: AttrDef; filter?: FilterNode };

export interface PatchResult {
  data: Record<string, unknown>;
  password?: string;
  members: MemberChanges[];
}

export interface PatchOptions {
  /** Groups: current members, read only when a remove filter needs more than `value eq`. */
  membersOf?: () => MemberView[];
  /** Unknown attributes in a no-path value: refused unless the policy ignores them. */
  unknown?: UnknownPolicy;
}

interface Operation {
  op: Op;
  path?: string;
  value: unknown;
}

/** Validates the PatchOp envelope and returns its operations. */
export function readOperations(body: unknown): Operation[] {
  if (!isObject(body)) throw invalidSyntax('the request body must be a PatchOp object');
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || schemas.length !== 1 || String(schemas[0]).toLowerCase() !== PATCH_OP.toLowerCase()) {
    throw invalidSyntax(`schemas must be ["${PATCH_OP}"]`);
  }
  const key = Object.keys(body).find((k) => k.toLowerCase() === 'operations');
  const ops = key ? body[key] : undefined;
  if (!Array.isArray(ops)) throw invalidSyntax('Operations must be an array');
  if (ops.length > MAX_OPERATIONS) throw invalidSyntax(`more than ${MAX_OPERATIONS} operations`);
  return ops.map((raw, i) => {
    if (!isObject(raw)) throw invalidSyntax(`Operations[${i}] must be an object`);
    const get = (name: string) => Object.entries(raw).find(([k]) => k.toLowerCase() === name)?.[1];
    const op = get('op');
    if (typeof op !== 'string' || !/^(add|remove|replace)$/i.test(op)) throw invalidSyntax(`Operations[${i}].op must be add, remove or replace`);
    const path = get('path');
    if (path !== undefined && path !== null && typeof path !== 'string') throw invalidPath(`Operations[${i}].path must be a string`);
    const value = get('value');
    const lower = op.toLowerCase() as Op;
    // RFC 7644 section 3.5.2.1/3: add and replace carry a value (replace may set null to clear).
    if (lower === 'add' && (value === undefined || value === null)) throw invalidValue(`Operations[${i}]: add needs a value`);
    if (lower === 'replace' && !Object.keys(raw).some((k) => k.toLowerCase() === 'value')) throw invalidValue(`Operations[${i}]: replace needs a value`);
    return { op: lower, path: typeof path === 'string' && path.trim() !== '' ? path.trim() : undefined, value };
  });
}

/** `[urn:]attr[.sub]`, or an extension attribute without its URN when only one extension has it (Entra's `"path": "manager"`). */
function resolveAttrPath(rt: ResourceTypeDef, path: string, attrPath: string): ResolvedPath {
  const resolved = resolvePath(rt, attrPath) ?? resolveUnqualified(rt, attrPath);
  if (resolved && 'ambiguous' in resolved) throw invalidPath(`"${path}" is an attribute of ${resolved.ambiguous.join(' and ')}: prefix it with one of them`);
  if (!resolved) throw invalidPath(`"${path}" names no attribute of ${rt.name}`);
  return resolved;
}

function parseTarget(rt: ResourceTypeDef, path: string): Target {
  const ext = rt.extensions.find((e) => e.schema.id.toLowerCase() === path.toLowerCase());
  if (ext) return { kind: 'extension', schema: ext.schema };
  const open = path.indexOf('[');
  let attrPath = path;
  let filterText: string | undefined;
  let subText: string | undefined;
  if (open !== -1) {
    const close = path.lastIndexOf(']');
    if (close < open) throw invalidPath(`"${path}" has an unclosed "["`);
    attrPath = path.slice(0, open);
    filterText = path.slice(open + 1, close);
    const after = path.slice(close + 1);
    if (after && !after.startsWith('.')) throw invalidPath(`"${path}" is not a valid path`);
    subText = after ? after.slice(1) : undefined;
  }
  const resolved = resolveAttrPath(rt, path, attrPath);
  const { attr } = resolved;
  let sub = resolved.sub;
  let filter: FilterNode | undefined;
  if (filterText !== undefined) {
    if (sub || !attr.multiValued || attr.type !== 'complex') throw invalidPath(`"${path}": a filter applies only to a multi-valued complex attribute`);
    filter = parseValueFilter(rt, { schema: resolved.schema, name: attr.name, multiValued: true, type: 'complex', caseExact: false }, filterText);
    if (subText !== undefined) {
      sub = findSub(attr, subText);
      if (!sub) throw invalidPath(`"${path}" names no sub-attribute "${subText}"`);
    }
  }
  const isMembers = rt.name === 'Group' && attr.name === 'members' && !resolved.schema;
  if (!isMembers && (attr.mutability === 'readOnly' || sub?.mutability === 'readOnly')) {
    throw mutability(`${path} is read-only`);
  }
  return { kind: 'attr', schema: resolved.schema, attr, sub, filter };
}

class Patcher {
  password?: string;
  readonly members: MemberChanges[] = [];
  /** Value keys and primary position of the multi-valued lists `add` has grown (see addValues). */
  private readonly indexes = new WeakMap<unknown[], { keys: Set<string>; primary: number }>();
  private readonly elementKeys = new WeakMap<object, string>();
  private memberScans = 0;
  private currentMembers?: MemberView[];
  /** Parsed paths: clients repeat one path across many operations. */
  private readonly targets = new Map<string, Target>();

  constructor(
    private readonly rt: ResourceTypeDef,
    readonly data: Record<string, unknown>,
    private readonly options: PatchOptions,
  ) {}

  apply(op: Operation): void {
    if (!op.path) {
      if (op.op === 'remove') throw noTarget('remove needs a path');
      if (!isObject(op.value)) throw invalidValue(`${op.op} without a path needs an object value`);
      for (const [key, value] of Object.entries(op.value)) {
        if (/^(schemas|id|meta)$/i.test(key)) continue; // Okta repeats the id in a no-path replace
        if (this.foreign(key, value)) continue;
        this.applyTo(op.op, parseTargetLenient(this.rt, key, value, this.options.unknown), value);
      }
      return;
    }
    if (this.foreign(op.path, op.value)) return;
    let target = this.targets.get(op.path);
    if (!target) this.targets.set(op.path, (target = parseTarget(this.rt, op.path)));
    this.applyTo(op.op, target, op.value);
  }

  /** A path under an extension schema this resource type does not implement: ignored in any op (foreign-extensions.ts). */
  private foreign(path: string, value: unknown): boolean {
    const urn = foreignExtensionOf(this.rt, path, { objectValue: isObject(value) });
    if (urn) noteExtension(this.options.unknown?.extensions, urn, 'path');
    return urn !== undefined;
  }

  private applyTo(op: Op, target: Target | undefined, value: unknown): void {
    if (!target) return; // an unknown key with an unassigned value: nothing to do
    if (target.kind === 'resource') return;
    if (target.kind === 'extension') {
      if (op === 'remove') {
        delete this.data[target.schema.id];
        return;
      }
      if (!isObject(value)) throw invalidValue(`${target.schema.id} needs an object value`);
      for (const [key, v] of Object.entries(value)) {
        const t = parseTargetLenient(this.rt, `${target.schema.id}:${key}`, v, this.options.unknown);
        if (t) this.applyTo(op, t, v);
      }
      return;
    }
    if (this.rt.name === 'Group' && target.attr.name === 'members' && !target.schema) return this.membersOp(op, target, value);
    if (target.attr.name === 'password' && !target.schema) {
      if (op !== 'remove') {
        const pwd = coerceSimple(target.attr, value, 'password');
        if (typeof pwd === 'string' && pwd !== '') this.password = pwd;
      }
      return;
    }
    const container = this.container(target.schema);
    const { attr, sub, filter } = target;
    const label = `${target.schema ? `${target.schema}:` : ''}${attr.name}${sub ? `.${sub.name}` : ''}`;
    if (filter) return this.filtered(op, container, attr, filter, sub, value, label);
    if (op === 'remove') return this.remove(container, attr, sub, value);
    if (sub) return this.setSub(container, attr, sub, value, label);
    const v = coerceAttr(attr, value, label, this.options.unknown);
    if (v === undefined) {
      if (op === 'replace') delete container[attr.name];
      return;
    }
    if (attr.multiValued && op === 'add') this.addValues(container, attr, v as unknown[], label);
    else if (attr.type === 'complex' && !attr.multiValued && isObject(container[attr.name])) {
      container[attr.name] = coerceComplex(attr, { ...(container[attr.name] as object), ...(v as object) }, label);
    } else container[attr.name] = v;
  }

  /**
   * `add` to a multi-valued attribute, in time linear in the values added: the list's value keys and
   * its primary are kept between operations (keyed by the list itself, so any other operation that
   * replaces the list starts afresh), and the list grows in place. A newly added primary value
   * demotes the old one (RFC 7644 section 3.5.2.1); within one operation the first primary wins.
   */
  private addValues(container: Record<string, unknown>, attr: AttrDef, values: unknown[], label: string): void {
    let list = container[attr.name] as unknown[];
    if (!Array.isArray(list)) container[attr.name] = list = [];
    let index = this.indexes.get(list);
    if (!index) {
      index = { keys: new Set(list.map((x) => this.keyOf(x))), primary: list.findIndex((x) => isObject(x) && x.primary === true) };
      this.indexes.set(list, index);
    }
    let primarySeen = false;
    for (let value of values) {
      const key = this.keyOf(value);
      if (index.keys.has(key)) continue;
      if (isObject(value) && value.primary === true) {
        if (primarySeen) value = { ...value, primary: false };
        else if (index.primary !== -1) {
          const old = list[index.primary] as Record<string, unknown>;
          index.keys.delete(this.keyOf(old));
          list[index.primary] = { ...old, primary: false };
          index.keys.add(this.keyOf(list[index.primary]));
        }
        if (!primarySeen) index.primary = list.length;
        primarySeen = true;
      }
      index.keys.add(this.keyOf(value));
      list.push(value);
      if (list.length > MAX_VALUES) throw tooManyValues(label);
    }
  }

  /**
   * The comparison key of a value, computed once per value object: operations that rebuild a list
   * (filters, removes) keep the elements they do not touch, so only new values are serialised.
   */
  private keyOf(value: unknown): string {
    if (!isObject(value)) return JSON.stringify(value);
    let key = this.elementKeys.get(value);
    if (key === undefined) this.elementKeys.set(value, (key = JSON.stringify(value)));
    return key;
  }

  private container(schema?: string): Record<string, unknown> {
    if (!schema) return this.data;
    if (!isObject(this.data[schema])) this.data[schema] = {};
    return this.data[schema] as Record<string, unknown>;
  }

  private setSub(container: Record<string, unknown>, attr: AttrDef, sub: AttrDef, value: unknown, label: string): void {
    const v = coerceSimple(sub, value, label);
    if (!attr.multiValued) {
      const current = isObject(container[attr.name]) ? (container[attr.name] as Record<string, unknown>) : {};
      const next = { ...current, [sub.name]: v };
      if (v === undefined) delete next[sub.name];
      container[attr.name] = coerceComplex(attr, next, label, true);
      return;
    }
    const list = Array.isArray(container[attr.name]) ? (container[attr.name] as Record<string, unknown>[]) : [];
    container[attr.name] = list.length ? list.map((el) => ({ ...el, [sub.name]: v })) : [{ [sub.name]: v }];
  }

  private remove(container: Record<string, unknown>, attr: AttrDef, sub: AttrDef | undefined, value: unknown): void {
    const current = container[attr.name];
    if (sub) {
      if (Array.isArray(current)) container[attr.name] = current.map((el) => omit(el, sub.name));
      else if (isObject(current)) container[attr.name] = omit(current, sub.name);
      return;
    }
    if (attr.multiValued && Array.isArray(current) && value !== undefined && value !== null) {
      // Remove by value list (Entra): drop the elements whose `value` (or whole value) matches.
      const doomed = (Array.isArray(value) ? value : [value]).map((x) => (isObject(x) ? x : { value: x }));
      container[attr.name] = current.filter((el) => !doomed.some((d) => sameElement(el, d)));
      return;
    }
    delete container[attr.name];
  }

  private filtered(
    op: Op,
    container: Record<string, unknown>,
    attr: AttrDef,
    filter: FilterNode,
    sub: AttrDef | undefined,
    value: unknown,
    label: string,
  ): void {
    const list = Array.isArray(container[attr.name]) ? (container[attr.name] as Record<string, unknown>[]) : [];
    const hit = list.map((el) => matchesElement(filter, el));
    if (op === 'remove') {
      container[attr.name] = sub ? list.map((el, i) => (hit[i] ? omit(el, sub.name) : el)) : list.filter((_, i) => !hit[i]);
      return;
    }
    const patchOf = (el: Record<string, unknown>) => {
      if (sub) return { ...el, [sub.name]: coerceSimple(sub, value, label) };
      if (!isObject(value)) throw invalidValue(`${label} needs an object value`);
      return { ...el, ...value };
    };
    if (hit.some(Boolean)) {
      container[attr.name] = list.map((el, i) => (hit[i] ? (coerceComplex(attr, patchOf(el), label) ?? el) : el));
      return;
    }
    // Nothing matched: Entra expects `emails[type eq "work"].value` to create the work email.
    const pinned = equalities(filter);
    if (!pinned) throw noTarget(`no value of ${attr.name} matches the filter`);
    const created = coerceComplex(attr, patchOf(pinned as Record<string, unknown>), label);
    if (created) container[attr.name] = singlePrimary([...list, created]);
  }

  private membersOp(op: Op, target: Extract<Target, { kind: 'attr' }>, value: unknown): void {
    if (target.sub && !target.filter) throw invalidPath('members can only be changed as whole members');
    if (target.filter) {
      if (op !== 'remove' || target.sub) throw invalidPath('a members filter is only supported to remove members');
      this.members.push({ remove: this.memberIds(target.filter) });
      return;
    }
    if (op === 'remove') {
      if (value === undefined || value === null) this.members.push({ removeAll: true });
      else this.members.push({ remove: normaliseMembers(value).map((m) => m.value) });
      return;
    }
    const refs = normaliseMembers(value);
    this.members.push(op === 'add' ? { add: refs } : { replace: refs });
  }

  /** Member ids a remove filter names: `value eq` terms directly, anything else against the list. */
  private memberIds(filter: FilterNode): string[] {
    const direct = eqValues(filter);
    if (direct) return direct;
    // Each such operation scans the whole group (up to 100,000 members): a few per request, loaded once.
    if (++this.memberScans > MAX_MEMBER_SCANS)
      throw invalidValue(`at most ${MAX_MEMBER_SCANS} operations of one PATCH may select members by a filter other than value eq`);
    this.currentMembers ??= this.options.membersOf?.() ?? [];
    return this.currentMembers.filter((m) => matchesElement(filter, m as unknown as Record<string, unknown>)).map((m) => m.value);
  }
}

/** PATCH operations that may select group members by a filter other than `value eq` (each scans the group). */
export const MAX_MEMBER_SCANS = 10;

function eqValues(node: FilterNode): string[] | null {
  if (node.kind === 'cmp' && node.op === 'eq' && node.attr.sub === 'value' && typeof node.value === 'string') return [node.value];
  if (node.kind === 'or') {
    const parts = node.items.map(eqValues);
    return parts.every(Boolean) ? (parts.flat() as string[]) : null;
  }
  return null;
}

function omit(el: unknown, key: string): unknown {
  if (!isObject(el)) return el;
  const { [key]: _dropped, ...rest } = el;
  return rest;
}

function sameElement(el: unknown, doomed: Record<string, unknown>): boolean {
  if (!isObject(el)) return el === doomed.value;
  const keys = Object.keys(doomed).filter((k) => doomed[k] !== undefined && k.toLowerCase() !== 'display');
  return (
    keys.length > 0 &&
    keys.every((k) => {
      const canonical = Object.keys(el).find((x) => x.toLowerCase() === k.toLowerCase());
      const a = canonical ? el[canonical] : undefined;
      const b = doomed[k];
      return typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b;
    })
  );
}

/** A key of a no-path value; one that names nothing is refused unless its value is unassigned. */
function parseTargetLenient(rt: ResourceTypeDef, key: string, value: unknown, unknown?: UnknownPolicy): Target | undefined {
  try {
    return parseTarget(rt, key);
  } catch (err) {
    if ((err as { scimType?: string }).scimType !== 'invalidPath') throw err;
    if (isUnassigned(value)) return undefined;
    if (!unknown?.ignore) throw err;
    unknown.ignored.push(key.length > 200 ? `${key.slice(0, 200)}...` : key);
    return undefined;
  }
}

/** Applies a PatchOp body to a copy of `data`. Throws 400 with the RFC scimType. */
export function applyPatch(rt: ResourceTypeDef, data: Record<string, unknown>, body: unknown, options: PatchOptions = {}): PatchResult {
  const ops = readOperations(body);
  const patcher = new Patcher(rt, structuredClone(data), options);
  for (const op of ops) patcher.apply(op);
  const result = canonicalOrder(rt, (clean(patcher.data) ?? {}) as Record<string, unknown>);
  checkRequired(rt, result);
  return { data: result, password: patcher.password, members: compactMembers(patcher.members) };
}

/**
 * The member changes of a PATCH's operations folded into one, applied once in SQL: a replace (or
 * remove-all) supersedes what came before it, and adds and removes of one member cancel in order.
 * So N operations cost the store one statement per kind, not N passes over a 100,000-member group.
 */
export function compactMembers(changes: readonly MemberChanges[]): MemberChanges[] {
  if (changes.length <= 1) return [...changes];
  let replace: Map<string, MemberRef> | null = null;
  const add = new Map<string, MemberRef>();
  const remove = new Set<string>();
  for (const c of changes) {
    if (c.replace || c.removeAll) {
      replace = new Map((c.replace ?? []).map((r) => [r.value, r]));
      add.clear();
      remove.clear();
    }
    for (const id of c.remove ?? []) {
      add.delete(id);
      if (replace) replace.delete(id);
      else remove.add(id);
    }
    for (const ref of c.add ?? []) {
      if (replace) replace.set(ref.value, ref);
      else add.set(ref.value, ref);
    }
  }
  if (replace) return [{ replace: [...replace.values()] }];
  return [{ ...(remove.size ? { remove: [...remove] } : {}), ...(add.size ? { add: [...add.values()] } : {}) }];
}

/** Drops what means unassigned (RFC 7643 section 2.5): null, undefined, empty lists and objects. */
function clean(value: unknown): unknown {
  if (Array.isArray(value)) {
    const list = value.map(clean).filter((v) => v !== undefined);
    return list.length ? list : undefined;
  }
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const c = clean(v);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return value === null ? undefined : value;
}
