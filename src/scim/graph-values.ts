// User attributes whose SCIM form is wider than the Graph property they become: checked (or put in
// Graph's form) at ingress, so the IdP hears of a value Graph would refuse, instead of the user
// failing later in sync.
import { BRIDGE_USER_SCHEMA } from '../rules/identity';
import { invalidValue } from '../errors';

// Graph user resource, onPremisesImmutableId: "The $ and _ characters can't be used when specifying
// this property." (graph-schemas.json, microsoft.graph.user).
const IMMUTABLE_ID_REFUSED = /[$_]/;

// One entry of an RFC 7231 section 5.3.5 Accept-Language list: a language range and an optional weight.
const LANGUAGE_ENTRY = /^([A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*|\*)(?:\s*;\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?))?$/;
// Graph's preferredLanguage: "an ISO 639 two-letter lowercase culture code ... and an ISO 3166
// two-letter uppercase subculture code", e.g. en-US (graph-schemas.json, microsoft.graph.user).
const CULTURE = /^([A-Za-z]{2})[-_]([A-Za-z]{2})$/;
const LANGUAGE_RULE =
  'send one culture as Graph stores it, an ISO 639-1 language and an ISO 3166 country or region such as "en-US" (or the language alone, "en")';

/**
 * RFC 7643 section 4.1.1 lets preferredLanguage be an Accept-Language list ("en-US,en;q=0.9"); Graph
 * takes one `ll-CC` culture. The entry with the highest weight wins (the first on a tie); a bare
 * language becomes the one `ll-CC` of that language also listed, if there is exactly one, else stays
 * as it is. `_` is read as `-` (Java locales), case is Graph's. Anything else (`*`, three-letter
 * languages, scripts, a malformed list) is 400 with the rule.
 */
export function normalisePreferredLanguage(value: string): string {
  const shown = value.length > 100 ? `${value.slice(0, 100)}...` : value;
  const entries = value.split(',').map((part, i) => {
    const m = LANGUAGE_ENTRY.exec(part.trim());
    if (!m) throw invalidValue(`preferredLanguage "${shown}" is not a language tag or Accept-Language list: ${LANGUAGE_RULE}`);
    return { tag: m[1], q: m[2] === undefined ? 1 : Number(m[2]), i };
  });
  const wanted = entries.filter((e) => e.q > 0 && e.tag !== '*').sort((a, b) => b.q - a.q || a.i - b.i);
  const top = wanted[0];
  const culture = (tag: string) => {
    const m = CULTURE.exec(tag);
    return m ? `${m[1].toLowerCase()}-${m[2].toUpperCase()}` : undefined;
  };
  if (top) {
    const exact = culture(top.tag);
    if (exact) return exact;
    if (/^[A-Za-z]{2}$/.test(top.tag)) {
      const language = top.tag.toLowerCase();
      const same = [...new Set(wanted.map((e) => culture(e.tag)).filter((c) => c?.startsWith(`${language}-`)))];
      // A bare language stays one when no single culture of it is listed: Microsoft's SCIM reference
      // collection sends "xh", and tenants hold values such as "en".
      return same.length === 1 ? same[0]! : language;
    }
  }
  throw invalidValue(`preferredLanguage "${shown}" does not name one culture: ${LANGUAGE_RULE}`);
}

/**
 * Checks and normalises, on a copy, the values of a user that Graph constrains further than SCIM.
 * Values unchanged since `before` are left alone, so a value stored before a rule existed does not
 * block the user's other updates.
 */
export function graphReadyUser(before: Record<string, unknown> | null, data: Record<string, unknown>): Record<string, unknown> {
  let out = data;
  const language = data.preferredLanguage;
  if (typeof language === 'string' && language !== before?.preferredLanguage) {
    const culture = normalisePreferredLanguage(language);
    if (culture !== language) out = { ...out, preferredLanguage: culture };
  }
  const immutableId = (data[BRIDGE_USER_SCHEMA] as Record<string, unknown> | undefined)?.immutableId;
  const previous = (before?.[BRIDGE_USER_SCHEMA] as Record<string, unknown> | undefined)?.immutableId;
  if (typeof immutableId === 'string' && immutableId !== previous && IMMUTABLE_ID_REFUSED.test(immutableId)) {
    throw invalidValue(`${BRIDGE_USER_SCHEMA}:immutableId may not contain "$" or "_": Graph refuses them in onPremisesImmutableId`);
  }
  return out;
}
