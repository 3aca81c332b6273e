// The tenant the embedded simulator starts with when `npm start` runs without tenant
// credentials and without graph.simulator.seedFile: a few verified domains IdP test suites
// commonly use, and the two most common Microsoft 365 SKUs with seats to spare.
import type { SeedObject } from './simulator';

export function demoSeed(): SeedObject {
  return {
    tenant: { displayName: 'scim-graph-bridge demo tenant' },
    domains: [
      { name: 'bridgedemo.onmicrosoft.com', isInitial: true },
      { name: 'example.com', isDefault: true },
      { name: 'example.org' },
      { name: 'example.net' },
      { name: 'contoso.com' },
      { name: 'fabrikam.com' },
    ],
    skus: [
      { skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900', skuPartNumber: 'ENTERPRISEPACK', seats: 10000 },
      { skuId: '05e9a617-0261-4cee-bb44-138d3ef5d965', skuPartNumber: 'SPE_E3', seats: 10000 },
    ],
    organization: { onPremisesSyncEnabled: null },
  };
}
