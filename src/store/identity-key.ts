// The canonical form of an identity key (userName, a group's displayName), on which uniqueness is
// enforced. Graph compares UPNs without regard to case and allows only ASCII in them (user resource,
// userPrincipalName); SQLite's NOCASE folds ASCII only, so the key is computed here: Unicode NFC,
// then lower case. "Alice@x", "ALICE@x" and "\u212Aim@x" / "kim@x" (Kelvin sign) are one key.
export function identityKey(value: string): string {
  return value.normalize('NFC').toLowerCase();
}
