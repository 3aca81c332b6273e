// The filter AST that scim/ hands to the store (RFC 7644 section 3.4.2.2), with every attribute
// already resolved against the schema: canonical names, leaf type and caseExact.
export type AttrType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'binary' | 'complex';
export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type FilterValue = string | number | boolean | null;

export interface FilterAttr {
  /** Extension URN, or undefined for core and common attributes. */
  schema?: string;
  /** Canonical top-level attribute name (e.g. emails, meta, userName). */
  name: string;
  /** Canonical sub-attribute name (e.g. value, created). */
  sub?: string;
  /** Whether the top-level attribute is multi-valued. */
  multiValued: boolean;
  /** Type of what is compared: the sub-attribute's type if any, else the attribute's. */
  type: AttrType;
  caseExact: boolean;
}

export type FilterNode =
  | { kind: 'and' | 'or'; items: FilterNode[] }
  | { kind: 'not'; expr: FilterNode }
  | { kind: 'pr'; attr: FilterAttr }
  | { kind: 'cmp'; op: CompareOp; attr: FilterAttr; value: FilterValue }
  /** attr[filter]: the inner filter's attributes are sub-attributes of `attr` (same name). */
  | { kind: 'valuePath'; attr: FilterAttr; filter: FilterNode };

export interface SortSpec {
  attr: FilterAttr;
  descending: boolean;
}
