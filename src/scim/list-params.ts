// Query parameters of a list or .search (RFC 7644 sections 3.4.2 and 3.4.3), read the same way
// from the URL or a SearchRequest body, validated into numbers and resolved paths.
import type { SortSpec } from '../store';
import { isObject } from './coerce';
import { toFilterAttr } from './filter';
import { parseSelection, type Projection } from './render';
import type { ResourceTypeDef } from './schema';
import { invalidPath, invalidSyntax, invalidValue } from '../errors';

export const DEFAULT_COUNT = 100;
export const MAX_COUNT = 1000;
export const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

export interface ListParams {
  filter?: string;
  sortBy?: string;
  sortOrder?: string;
  startIndex: number;
  count: number;
  attributes?: string;
  excludedAttributes?: string;
}

function int(name: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*[-+]?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw invalidValue(`${name} must be an integer`);
  return n;
}

function str(name: string, raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string') throw invalidValue(`${name} must be a string`);
  return raw;
}

/** attributes / excludedAttributes: a comma-separated string, or (in a SearchRequest) an array of strings. */
function list(name: string, raw: unknown): string | undefined {
  if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw.join(',');
  if (Array.isArray(raw)) throw invalidValue(`${name} must be an array of attribute names`);
  return str(name, raw);
}

/** startIndex below 1 counts as 1, count below 0 as 0, above MAX_COUNT as MAX_COUNT (RFC 7644 section 3.4.2.4). */
function paging(startIndex: number | undefined, count: number | undefined): { startIndex: number; count: number } {
  return {
    startIndex: Math.max(1, startIndex ?? 1),
    count: Math.min(MAX_COUNT, Math.max(0, count ?? DEFAULT_COUNT)),
  };
}

/** From a URL query; a parameter repeated takes its first value. */
export function fromQuery(query: Record<string, unknown>): ListParams {
  const get = (name: string) => {
    const key = Object.keys(query).find((k) => k.toLowerCase() === name.toLowerCase());
    const v = key === undefined ? undefined : query[key];
    return Array.isArray(v) ? v[0] : v;
  };
  return {
    filter: str('filter', get('filter')),
    sortBy: str('sortBy', get('sortBy')),
    sortOrder: str('sortOrder', get('sortOrder')),
    ...paging(int('startIndex', get('startIndex')), int('count', get('count'))),
    attributes: str('attributes', get('attributes')),
    excludedAttributes: str('excludedAttributes', get('excludedAttributes')),
  };
}

/** From a POST .search body (SearchRequest). */
export function fromSearchBody(body: unknown): ListParams {
  if (!isObject(body)) throw invalidSyntax('the request body must be a SearchRequest object');
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || schemas.length !== 1 || String(schemas[0]).toLowerCase() !== SEARCH_REQUEST.toLowerCase()) {
    throw invalidSyntax(`schemas must be ["${SEARCH_REQUEST}"]`);
  }
  const get = (name: string) => body[Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase()) ?? ''];
  return {
    filter: str('filter', get('filter')),
    sortBy: str('sortBy', get('sortBy')),
    sortOrder: str('sortOrder', get('sortOrder')),
    ...paging(int('startIndex', get('startIndex')), int('count', get('count'))),
    attributes: list('attributes', get('attributes')),
    excludedAttributes: list('excludedAttributes', get('excludedAttributes')),
  };
}

export function sortOf(rt: ResourceTypeDef, p: ListParams): SortSpec | undefined {
  if (p.sortOrder !== undefined && !/^(ascending|descending)$/i.test(p.sortOrder)) throw invalidValue('sortOrder must be ascending or descending');
  if (p.sortBy === undefined || p.sortBy.trim() === '') return undefined;
  let attr;
  try {
    attr = toFilterAttr(rt, p.sortBy.trim());
  } catch {
    throw invalidPath(`sortBy "${p.sortBy}" names no attribute of ${rt.name}`);
  }
  return { attr, descending: /^descending$/i.test(p.sortOrder ?? '') };
}

export function projectionOf(rt: ResourceTypeDef, p: ListParams): Projection {
  return { attributes: parseSelection(rt, p.attributes), excluded: parseSelection(rt, p.excludedAttributes) };
}
