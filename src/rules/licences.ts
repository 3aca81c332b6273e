// Group-based licence mapping (config licenses.groups): a key names a group by its SCIM id or its
// displayName, without regard to case, and maps it to the SKUs its members hold.
/** The SKUs (as configured: part numbers or ids) that `licenses.groups` maps this group to; empty when none. */
export function licenceGroupSkus(groups: Readonly<Record<string, readonly string[]>>, id: string, displayName: string): string[] {
  const idKey = id.toLowerCase();
  const nameKey = displayName.toLowerCase();
  return Object.entries(groups)
    .filter(([g]) => g.toLowerCase() === idKey || g.toLowerCase() === nameKey)
    .flatMap(([, skus]) => skus);
}
