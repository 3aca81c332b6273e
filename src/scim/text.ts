// What a string from a source may hold (docs/security.md, "What a source can send"). Every string
// the bridge stores can end up in a Graph URL (encodeURIComponent throws URIError on a lone
// surrogate) or a Graph body, so each one is checked here, once, at ingress: stored data is then
// always safe to translate. Free text keeps tab, CR and LF (RFC 7643 section 4.1.2 lets
// addresses.formatted span lines); identity keys (userName, a group's displayName) keep none of
// them, nor invisible format characters, so that two keys that look alike are alike.
import { invalidValue } from '../errors';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// C0 controls but tab, LF and CR; DEL; C1 controls. NUL included.
// eslint-disable-next-line no-control-regex -- finding control characters is this pattern's purpose
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
// In identity keys also: any control (Cc), format characters (Cf: bidi overrides like U+202E,
// zero-width joiners, soft hyphen, BOM), private use (Co), line and paragraph separators.
const NOT_IN_KEY = /[\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}]/u;
const EDGE_SPACE = /^\s|\s$/u;

const codePoint = (s: string, at: number): string => `U+${s.codePointAt(at)!.toString(16).toUpperCase().padStart(4, '0')}`;

export interface TextOptions {
  /** Stored as sent, not NFC (a password is the user's own bytes). */
  verbatim?: boolean;
}

/**
 * Refuses what no Graph property can take (a lone surrogate, NUL and the other control characters
 * but tab, LF and CR) and returns the value in Unicode NFC, so canonically equal strings are stored,
 * compared and sent alike. The message names the path and the code point, never the value.
 */
export function checkText(value: string, path: string, options: TextOptions = {}): string {
  const lone = LONE_SURROGATE.exec(value);
  if (lone) throw invalidValue(`${path} is not well-formed Unicode: lone surrogate ${codePoint(value, lone.index)} at offset ${lone.index}`);
  const control = CONTROL.exec(value);
  if (control) throw invalidValue(`${path} contains the control character ${codePoint(value, control.index)} at offset ${control.index}`);
  return options.verbatim ? value : value.normalize('NFC');
}

/**
 * An identity key (userName, a group's displayName) becomes the UPN or group name in Graph and is
 * unique on its canonical form (store/identity-key.ts). Leading or trailing whitespace, controls,
 * invisible format characters (bidi overrides) are refused rather than trimmed: a key the bridge
 * rewrote would no longer be the one the IdP filters on, and two IdP records would collapse into one.
 */
export function checkIdentityKey(value: string, path: string): void {
  const hidden = NOT_IN_KEY.exec(value);
  if (hidden) throw invalidValue(`${path} contains the invisible or control character ${codePoint(value, hidden.index)} at offset ${hidden.index}`);
  if (EDGE_SPACE.test(value)) throw invalidValue(`${path} has leading or trailing whitespace`);
}
