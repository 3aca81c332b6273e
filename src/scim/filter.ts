// RFC 7644 section 3.4.2.2 filters: a bounded recursive-descent parser (length, terms and
// depth capped, linear time: no DNF expansion, so no filter can block the event loop), then
// resolution of every attribute path against the schema. Also parses PATCH paths.
//
// Lenient where real clients are (Entra's reference collection): case-insensitive operators and
// attribute names, unquoted values (`familyName eq Employee`, dateTimes).
import { invalidFilter } from '../errors';
import type { CompareOp, FilterAttr, FilterNode, FilterValue } from '../store/filter-types';
import { foreignExtensionOf, noteExtension, type IgnoredExtension } from './foreign-extensions';
import { resolvePath, type ResourceTypeDef } from './schema';

export const FILTER_LIMITS = { length: 4096, terms: 100, depth: 16 };

const COMPARE_OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);

/** Unresolved AST: attribute paths still as written. */
type RawNode =
  | { kind: 'and' | 'or'; items: RawNode[] }
  | { kind: 'not'; expr: RawNode }
  | { kind: 'pr'; path: string }
  | { kind: 'cmp'; op: CompareOp; path: string; value: FilterValue }
  | { kind: 'valuePath'; path: string; filter: RawNode };

interface Token {
  t: '(' | ')' | '[' | ']' | 'str' | 'word';
  v: string;
  at: number;
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
    else if (c === '(' || c === ')' || c === '[' || c === ']') tokens.push({ t: c, v: c, at: i++ });
    else if (c === '"') {
      let j = i + 1;
      let raw = '';
      while (j < input.length && input[j] !== c) {
        if (input[j] === '\\' && j + 1 < input.length) raw += input[j++];
        raw += input[j++];
      }
      if (j >= input.length) throw invalidFilter(`unterminated string starting at position ${i}`);
      let value: string;
      try {
        value = JSON.parse(`"${raw}"`);
      } catch {
        throw invalidFilter(`invalid string at position ${i}`);
      }
      tokens.push({ t: 'str', v: value, at: i });
      i = j + 1;
    } else {
      let j = i;
      while (j < input.length && !' \t\n\r()[]"'.includes(input[j])) j++;
      tokens.push({ t: 'word', v: input.slice(i, j), at: i });
      i = j;
    }
  }
  return tokens;
}

class Parser {
  private pos = 0;
  private terms = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): RawNode {
    const node = this.or(0);
    if (this.pos < this.tokens.length) throw invalidFilter(`unexpected "${this.tokens[this.pos].v}" at position ${this.tokens[this.pos].at}`);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isWord(value: string): boolean {
    const tok = this.peek();
    return tok?.t === 'word' && tok.v.toLowerCase() === value;
  }

  private expect(t: Token['t']): void {
    const tok = this.peek();
    if (tok?.t !== t) throw invalidFilter(tok ? `expected "${t}" at position ${tok.at}` : `expected "${t}" at the end`);
    this.pos++;
  }

  private or(depth: number): RawNode {
    if (depth > FILTER_LIMITS.depth) throw invalidFilter(`filter nests deeper than ${FILTER_LIMITS.depth} levels`);
    const items = [this.and(depth)];
    while (this.isWord('or')) {
      this.pos++;
      items.push(this.and(depth));
    }
    return items.length === 1 ? items[0] : { kind: 'or', items };
  }

  private and(depth: number): RawNode {
    const items = [this.not(depth)];
    while (this.isWord('and')) {
      this.pos++;
      items.push(this.not(depth));
    }
    return items.length === 1 ? items[0] : { kind: 'and', items };
  }

  private not(depth: number): RawNode {
    if (this.isWord('not')) {
      this.pos++;
      return { kind: 'not', expr: this.atom(depth) };
    }
    return this.atom(depth);
  }

  private atom(depth: number): RawNode {
    const tok = this.peek();
    if (!tok) throw invalidFilter('filter ends where an expression was expected');
    if (tok.t === '(') {
      this.pos++;
      const inner = this.or(depth + 1);
      this.expect(')');
      return inner;
    }
    if (tok.t !== 'word') throw invalidFilter(`expected an attribute at position ${tok.at}`);
    this.pos++;
    if (++this.terms > FILTER_LIMITS.terms) throw invalidFilter(`filter has more than ${FILTER_LIMITS.terms} comparisons`);
    const path = tok.v;
    if (this.peek()?.t === '[') {
      this.pos++;
      const filter = this.or(depth + 1);
      this.expect(']');
      const next = this.peek();
      if (next?.t !== 'word' || !next.v.startsWith('.')) return { kind: 'valuePath', path, filter };
      // `emails[type eq "work"].value eq "x"` (Entra's user lookup, Microsoft Learn "Tutorial: Develop
      // and plan provisioning for a SCIM endpoint"): a value path followed by a sub-attribute and a
      // comparison, read as one element matching both, `emails[type eq "work" and value eq "x"]`.
      this.pos++;
      const term = this.comparison(next.v.slice(1));
      return { kind: 'valuePath', path, filter: { kind: 'and', items: [filter, term] } };
    }
    return this.comparison(path);
  }

  private comparison(path: string): RawNode {
    const opTok = this.peek();
    if (opTok?.t !== 'word') throw invalidFilter(`expected an operator after "${path}"`);
    const op = opTok.v.toLowerCase();
    this.pos++;
    if (op === 'pr') return { kind: 'pr', path };
    if (!COMPARE_OPS.has(op)) throw invalidFilter(`unknown operator "${opTok.v}" at position ${opTok.at}`);
    return { kind: 'cmp', op: op as CompareOp, path, value: this.value() };
  }

  private value(): FilterValue {
    const tok = this.peek();
    if (!tok || (tok.t !== 'str' && tok.t !== 'word')) throw invalidFilter('expected a comparison value');
    this.pos++;
    if (tok.t === 'str') return tok.v;
    const lower = tok.v.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    if (lower === 'null') return null;
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(tok.v)) {
      const n = Number(tok.v);
      if (!Number.isFinite(n)) throw invalidFilter(`number ${tok.v} is out of range`);
      return n;
    }
    if (/^['{]/.test(tok.v)) throw invalidFilter(`${tok.v.slice(0, 20)} is not a value: quote strings with "`);
    return tok.v; // unquoted value, as Entra's reference collection sends (`familyName eq Employee`)
  }
}

export function parseRawFilter(input: string): RawNode {
  if (input.length > FILTER_LIMITS.length) throw invalidFilter(`filter is longer than ${FILTER_LIMITS.length} characters`);
  const tokens = tokenize(input);
  if (!tokens.length) throw invalidFilter('filter is empty');
  return new Parser(tokens).parse();
}

function toAttr(rt: ResourceTypeDef, path: string, within?: FilterAttr): FilterAttr {
  const resolved = within ? resolvePath(rt, `${within.schema ? `${within.schema}:` : ''}${within.name}.${path}`) : resolvePath(rt, path);
  if (!resolved) throw invalidFilter(`unknown attribute "${path}"${within ? ` in ${within.name}[...]` : ''}`);
  const leaf = resolved.sub ?? resolved.attr;
  return {
    ...(resolved.schema ? { schema: resolved.schema } : {}),
    name: resolved.attr.name,
    ...(resolved.sub ? { sub: resolved.sub.name } : {}),
    multiValued: resolved.attr.multiValued,
    type: leaf.type,
    caseExact: leaf.caseExact,
  };
}

// `id pr` holds for every resource (id is always assigned); its negation for none. The constant
// terms a filter on an unknown extension's attribute compiles to, in SQL and in memory alike.
const ID_ATTR: FilterAttr = { name: 'id', multiValued: false, type: 'string', caseExact: true };
const ALWAYS: FilterNode = { kind: 'pr', attr: ID_ATTR };
const NEVER: FilterNode = { kind: 'not', expr: ALWAYS };

/**
 * A term on an attribute of an extension this resource type does not implement (foreign-extensions.ts).
 * The bridge accepts such extensions but stores none of their attributes, so the attribute is unassigned
 * on every resource (RFC 7643 section 2.5) and the term is evaluated as on any unassigned attribute:
 * `pr`, `eq "x"`, `co`, `gt` and the rest match nothing; `ne "x"` and `eq null` match every resource.
 * Not 400 invalidFilter: RFC 7644 section 3.4.2.2 keeps that for filters the ABNF does not produce and
 * operators the server does not recognise, and this filter is neither; refusing it would fail the
 * lookups of a client whose writes the same extension does not fail.
 */
function unassignedTerm(node: Extract<RawNode, { kind: 'pr' | 'cmp' | 'valuePath' }>): FilterNode {
  if (node.kind !== 'cmp') return NEVER;
  const matches = node.op === 'ne' ? node.value !== null : node.op === 'eq' && node.value === null;
  return matches ? ALWAYS : NEVER;
}

function resolveNode(rt: ResourceTypeDef, node: RawNode, within?: FilterAttr, notes?: IgnoredExtension[]): FilterNode {
  if (!within && (node.kind === 'pr' || node.kind === 'cmp' || node.kind === 'valuePath')) {
    const urn = foreignExtensionOf(rt, node.path);
    if (urn) {
      noteExtension(notes, urn, 'filter');
      return unassignedTerm(node);
    }
  }
  switch (node.kind) {
    case 'and':
    case 'or':
      return { kind: node.kind, items: node.items.map((n) => resolveNode(rt, n, within, notes)) };
    case 'not':
      return { kind: 'not', expr: resolveNode(rt, node.expr, within, notes) };
    case 'pr':
      return { kind: 'pr', attr: toAttr(rt, node.path, within) };
    case 'cmp': {
      const attr = toAttr(rt, node.path, within);
      return { kind: 'cmp', op: node.op, attr, value: coerceValue(attr, node.op, node.value) };
    }
    case 'valuePath': {
      if (within) throw invalidFilter('value paths cannot nest');
      const attr = toAttr(rt, node.path);
      if (attr.sub || attr.type !== 'complex') throw invalidFilter(`"${node.path}" is not a complex attribute`);
      return { kind: 'valuePath', attr, filter: resolveNode(rt, node.filter, attr) };
    }
  }
}

function coerceValue(attr: FilterAttr, op: CompareOp, value: FilterValue): FilterValue {
  if (attr.type === 'complex') throw invalidFilter(`"${attr.name}" is complex: compare one of its sub-attributes`);
  if (attr.type === 'boolean') {
    if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
    if (typeof value !== 'boolean' && value !== null) throw invalidFilter(`${attr.name}${attr.sub ? `.${attr.sub}` : ''} compares with true or false`);
    if (op !== 'eq' && op !== 'ne') throw invalidFilter(`operator ${op} does not apply to a boolean`);
    return value;
  }
  if (attr.type === 'dateTime' && typeof value === 'string') {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw invalidFilter(`"${value}" is not a dateTime`);
    return date.toISOString();
  }
  if ((attr.type === 'integer' || attr.type === 'decimal') && typeof value === 'string') {
    const n = Number(value);
    if (!Number.isFinite(n)) throw invalidFilter(`"${value}" is not a number`);
    return n;
  }
  if (typeof value === 'number' && attr.type !== 'integer' && attr.type !== 'decimal') return String(value);
  if (typeof value === 'boolean') return String(value);
  // Stored strings are NFC (text.ts): a client's canonically equal spelling matches them.
  return typeof value === 'string' ? value.normalize('NFC') : value;
}

/** Parses and resolves a filter for one resource type; unknown extensions it names go to `notes`. Throws 400 invalidFilter. */
export function parseFilter(rt: ResourceTypeDef, input: string, notes?: IgnoredExtension[]): FilterNode {
  return resolveNode(rt, parseRawFilter(input), undefined, notes);
}

/** A filter inside a PATCH path (`emails[type eq "work"]`), relative to `attr`. */
export function parseValueFilter(rt: ResourceTypeDef, attr: FilterAttr, input: string): FilterNode {
  return resolveNode(rt, parseRawFilter(input), attr);
}

export function toFilterAttr(rt: ResourceTypeDef, path: string): FilterAttr {
  return toAttr(rt, path);
}

// ---- evaluation in memory (PATCH value paths, attribute projections) ----

function norm(v: unknown, caseExact: boolean): unknown {
  return typeof v === 'string' && !caseExact ? v.toLowerCase() : v;
}

function compare(actual: unknown, op: CompareOp, expected: FilterValue, attr: FilterAttr): boolean {
  if (actual === undefined || actual === null) return op === 'ne' ? expected !== null : expected === null && op === 'eq';
  if (attr.type === 'boolean') {
    const a = actual === true || actual === 'true' || actual === 'True';
    return op === 'eq' ? a === expected : a !== expected;
  }
  const a = norm(attr.type === 'dateTime' ? new Date(String(actual)).toISOString() : actual, attr.caseExact);
  const e = norm(expected, attr.caseExact);
  switch (op) {
    case 'eq':
      return a === e;
    case 'ne':
      return a !== e;
    case 'co':
      return String(a).includes(String(e));
    case 'sw':
      return String(a).startsWith(String(e));
    case 'ew':
      return String(a).endsWith(String(e));
    case 'gt':
      return (a as number) > (e as number);
    case 'ge':
      return (a as number) >= (e as number);
    case 'lt':
      return (a as number) < (e as number);
    case 'le':
      return (a as number) <= (e as number);
  }
}

/** Whether one element of a multi-valued complex attribute matches a value-path filter. */
export function matchesElement(node: FilterNode, element: Record<string, unknown>): boolean {
  switch (node.kind) {
    case 'and':
      return node.items.every((n) => matchesElement(n, element));
    case 'or':
      return node.items.some((n) => matchesElement(n, element));
    case 'not':
      return !matchesElement(node.expr, element);
    case 'pr': {
      const v = node.attr.sub ? element[node.attr.sub] : element;
      return v !== undefined && v !== null && v !== '';
    }
    case 'cmp':
      return compare(node.attr.sub ? element[node.attr.sub] : undefined, node.op, node.value, node.attr);
    case 'valuePath':
      return false;
  }
}

/** The sub-attribute values an `eq`-only conjunction pins, so a PATCH can create the element. */
export function equalities(node: FilterNode): Record<string, FilterValue> | null {
  if (node.kind === 'cmp' && node.op === 'eq' && node.attr.sub) return { [node.attr.sub]: node.value };
  if (node.kind === 'and') {
    const out: Record<string, FilterValue> = {};
    for (const item of node.items) {
      const part = equalities(item);
      if (!part) return null;
      Object.assign(out, part);
    }
    return out;
  }
  return null;
}
