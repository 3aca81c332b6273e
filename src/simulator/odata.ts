// The OData query options the bridge uses: $select, $top, $count (advanced queries need
// ConsistencyLevel: eventual), $skiptoken paging and a $filter subset (eq, ne, startswith, in,
// and, or, "eq null") over the properties Graph documents as filterable for these resources.
import { GraphError, badRequest, odataBadRequest } from './errors';
import type { EntitySchema } from './schema';
import type { Json, SimRequest } from './types';

export type Predicate = ((props: Json) => boolean) & {
  /** Set when only objects whose `prop` is one of `values` (folded to lower case) can match: an index can find them. */
  lookup?: { prop: string; values: unknown[] };
};

interface Token {
  kind: 'ident' | 'string' | 'punct' | 'null' | 'bool' | 'guid';
  value: string;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:'((?:[^']|'')*)'|([(),])|([A-Za-z_][\w/.@]*)|([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}))/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw odataBadRequest(`Syntax error at position ${pos} in '${text}'.`);
    pos = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: 'string', value: m[1].replace(/''/g, "'") });
    else if (m[2]) tokens.push({ kind: 'punct', value: m[2] });
    else if (m[4]) tokens.push({ kind: 'guid', value: m[4] });
    else if (m[3] === 'null') tokens.push({ kind: 'null', value: 'null' });
    else if (m[3] === 'true' || m[3] === 'false') tokens.push({ kind: 'bool', value: m[3] });
    else tokens.push({ kind: 'ident', value: m[3] });
  }
  return tokens;
}

const fold = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

export interface FilterOptions {
  schema: EntitySchema;
  /** Properties the bridge may filter on for this resource. */
  filterable: Set<string>;
  advanced: boolean;
}

/** Parses a $filter into a predicate, rejecting what Graph rejects for directory objects. */
export function parseFilter(text: string, options: FilterOptions): Predicate {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => {
    const t = tokens[i++];
    if (!t) throw odataBadRequest(`Syntax error: unexpected end of '${text}'.`);
    return t;
  };
  const expect = (value: string) => {
    const t = next();
    if (t.value !== value) throw odataBadRequest(`Syntax error: '${value}' expected at '${t.value}' in '${text}'.`);
  };
  const unsupported = (prop: string) =>
    new GraphError(
      400,
      'Request_UnsupportedQuery',
      `Unsupported or invalid query filter clause specified for property '${prop}' of resource '${options.schema.resource}'.`,
    );
  const property = (name: string) => {
    if (!options.schema.properties.has(name)) throw odataBadRequest(`Could not find a property named '${name}' on type '${options.schema.type}'.`);
    if (!options.filterable.has(name)) throw unsupported(name);
    return name;
  };
  const literal = (): unknown => {
    const t = next();
    if (t.kind === 'string' || t.kind === 'guid') return t.value;
    if (t.kind === 'null') return null;
    if (t.kind === 'bool') return t.value === 'true';
    throw odataBadRequest(`Syntax error: literal expected at '${t.value}' in '${text}'.`);
  };
  const term = (): Predicate => {
    const t = next();
    if (t.kind === 'punct' && t.value === '(') {
      const inner = expr();
      expect(')');
      return inner;
    }
    if (t.kind !== 'ident') throw odataBadRequest(`Syntax error at '${t.value}' in '${text}'.`);
    if (t.value.toLowerCase() === 'startswith') {
      expect('(');
      const prop = property(next().value);
      expect(',');
      const prefix = String(literal()).toLowerCase();
      expect(')');
      return (p) => typeof p[prop] === 'string' && (p[prop] as string).toLowerCase().startsWith(prefix);
    }
    const prop = property(t.value);
    const op = next().value;
    if (op === 'eq' || op === 'ne') {
      const value = fold(literal());
      if (op === 'ne' && !options.advanced) throw unsupported(prop);
      const eq: Predicate = (p) => (value === null ? p[prop] === null || p[prop] === undefined : fold(p[prop]) === value);
      if (op === 'ne') return (p) => !eq(p);
      eq.lookup = { prop, values: [value] };
      return eq;
    }
    if (op === 'in') {
      expect('(');
      const values: unknown[] = [fold(literal())];
      while (peek()?.value === ',') {
        next();
        values.push(fold(literal()));
      }
      expect(')');
      if (values.length > 15) throw badRequest("Too many child clauses specified in search filter expression containing 'OR' operators: 16. Max allowed: 15.");
      const set = new Set(values);
      const within: Predicate = (p) => set.has(fold(p[prop]));
      within.lookup = { prop, values };
      return within;
    }
    throw unsupported(prop);
  };
  const expr = (): Predicate => {
    let left = term();
    while (peek()?.kind === 'ident' && ['and', 'or'].includes(peek().value)) {
      const op = next().value;
      const right = term();
      const l = left;
      if (op === 'and') {
        const both: Predicate = (p) => l(p) && right(p);
        // What both sides match is among what either side's lookup finds.
        both.lookup = l.lookup ?? right.lookup;
        left = both;
      } else left = (p) => l(p) || right(p);
    }
    return left;
  };
  const predicate = expr();
  if (i < tokens.length) throw odataBadRequest(`Syntax error at '${tokens[i].value}' in '${text}'.`);
  return predicate;
}

/** $select names, each checked against the entity schema. */
export function parseSelect(req: SimRequest, schema: EntitySchema): string[] | undefined {
  const text = req.query.get('$select');
  if (text === null) return undefined;
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names)
    if (!schema.properties.has(n) && !schema.navigation.has(n)) throw odataBadRequest(`Could not find a property named '${n}' on type '${schema.type}'.`);
  return names;
}

export function parseTop(req: SimRequest, max = 999): number | undefined {
  const text = req.query.get('$top');
  if (text === null) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest(`Invalid page size specified: '${text}'. Must be between 1 and ${max} inclusive.`);
  return n;
}

export function isAdvanced(req: SimRequest): boolean {
  return (req.headers['consistencylevel'] ?? '').toLowerCase() === 'eventual';
}

export function wantsCount(req: SimRequest): boolean {
  const v = req.query.get('$count');
  if (v === null || v === 'false') return false;
  if (v !== 'true') throw odataBadRequest(`'${v}' is not a valid count option.`);
  if (!isAdvanced(req)) throw badRequest('$count is not currently supported.');
  return true;
}

export function encodeSkipToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

export function decodeSkipToken(req: SimRequest): number {
  const t = req.query.get('$skiptoken');
  if (t === null) return 0;
  try {
    const o = JSON.parse(Buffer.from(t, 'base64url').toString('utf8')).o;
    if (Number.isInteger(o) && o >= 0) return o;
  } catch {
    /* fall through */
  }
  throw badRequest('Invalid skip token.');
}
