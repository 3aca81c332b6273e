#!/usr/bin/env node
// Generates schemas/graph-permissions.json from Microsoft's machine-readable permission table
// (microsoftgraph/microsoft-graph-devx-content, permissions/new/permissions.json): for every
// Graph path the simulator serves, the Application permissions that grant each method, and which
// of them the table marks least privileged. Nothing here is written from memory: the only
// hand-kept parts are the list of paths (what the simulator serves), the few paths the table
// lacks (each with the Graph doc page that states its permissions), and the property-scoped
// permissions of PATCH /users/{id} (each with the table's own description, copied below).
//
//   node scripts/gen-graph-permissions.js [path/to/permissions.json]
//
// Default input: ../shared/graph/permissions.json next to the repository.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = join(__dirname, '..');
const input = resolve(process.argv[2] ?? join(root, '..', 'shared', 'graph', 'permissions.json'));
const table = JSON.parse(readFileSync(input, 'utf8'));

// Path templates as the table spells them (lower case, {id} for every key, no $ref, no type cast).
const SERVED = [
  ['GET', '/users'],
  ['POST', '/users'],
  ['GET', '/users/delta'],
  ['GET', '/users/{id}'],
  ['PATCH', '/users/{id}'],
  ['DELETE', '/users/{id}'],
  ['GET', '/users/{id}/manager'],
  ['PUT', '/users/{id}/manager'],
  ['DELETE', '/users/{id}/manager'],
  ['POST', '/users/{id}/assignlicense'],
  ['POST', '/users/{id}/revokesigninsessions'],
  ['POST', '/users/{id}/reprocesslicenseassignment'],
  ['GET', '/groups'],
  ['POST', '/groups'],
  ['GET', '/groups/delta'],
  ['GET', '/groups/{id}'],
  ['PATCH', '/groups/{id}'],
  ['DELETE', '/groups/{id}'],
  ['POST', '/groups/{id}/assignlicense'],
  ['GET', '/groups/{id}/members'],
  ['POST', '/groups/{id}/members'],
  ['DELETE', '/groups/{id}/members/{id}'],
  ['GET', '/organization'],
  ['GET', '/organization/{id}'],
  ['PATCH', '/organization/{id}'],
  ['GET', '/devices'],
  ['GET', '/devices/{id}'],
  ['GET', '/subscribedskus'],
  ['GET', '/directory/deleteditems/{id}'],
  ['DELETE', '/directory/deleteditems/{id}'],
  ['POST', '/directory/deleteditems/{id}/restore'],
  ['GET', '/rolemanagement/directory/roleassignments'],
  // API-driven inbound provisioning (graph.writer "inbound"): the job's status, its bulkUpload, and the provisioning logs.
  ['GET', '/serviceprincipals/{id}/synchronization/jobs'],
  ['GET', '/serviceprincipals/{id}/synchronization/jobs/{id}'],
  ['POST', '/serviceprincipals/{id}/synchronization/jobs/{id}/bulkupload'],
  ['GET', '/auditlogs/provisioning'],
];

// Paths the table (at the commit above) does not list for these methods, with the permissions the
// Graph v1.0 API page names for application access.
const SUPPLEMENTS = [
  {
    method: 'POST',
    path: '/groups/{id}/members',
    permissions: ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'],
    least: ['GroupMember.ReadWrite.All'],
    source: 'https://learn.microsoft.com/graph/api/group-post-members (POST /groups/{id}/members/$ref)',
  },
  {
    method: 'GET',
    path: '/directory/deleteditems/{id}',
    permissions: ['User.Read.All', 'User.ReadWrite.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    least: ['User.Read.All'],
    source: 'https://learn.microsoft.com/graph/api/directory-deleteditems-get and directory-deleteditems-list (users and groups)',
  },
  {
    method: 'DELETE',
    path: '/directory/deleteditems/{id}',
    permissions: ['User.DeleteRestore.All', 'Group.ReadWrite.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
    least: ['User.DeleteRestore.All'],
    source: 'https://learn.microsoft.com/graph/api/directory-deleteditems-delete (users and groups)',
  },
];

// PATCH /users/{id} permissions that reach only some properties (their adminDescription in the
// table says which). A token holding only these may write only those properties.
const PROPERTY_SCOPED = {
  'User-PasswordProfile.ReadWrite.All': ['passwordProfile'],
  'User-Phone.ReadWrite.All': ['businessPhones', 'mobilePhone'],
  'User.EnableDisableAccount.All': ['accountEnabled'],
  'User-Mail.ReadWrite.All': ['otherMails'],
  'User.ManageIdentities.All': ['identities'],
};

const norm = (p) => p.toLowerCase().replace(/\{[^}]+\}/g, '{id}');
// One walk over the table's Application path sets fills both lookups: which permissions grant each
// route the bridge serves (and which of those the table marks least privileged), and every
// Application (path, method) of the table, for the contract check of requests.
const served = new Map(SERVED.map(([method, path]) => [`${method} ${path}`, { permissions: new Set(), least: new Set() }]));
const applicationPaths = {};
for (const [name, perm] of Object.entries(table.permissions)) {
  for (const set of perm.pathSets ?? []) {
    if (!set.schemeKeys.includes('Application')) continue;
    for (const [p, marks] of Object.entries(set.paths)) {
      const key = norm(p);
      applicationPaths[key] = [...new Set([...(applicationPaths[key] ?? []), ...set.methods])].sort();
      for (const method of set.methods) {
        const route = served.get(`${method} ${key}`);
        if (!route) continue;
        route.permissions.add(name);
        if (/least=[^;]*Application/.test(marks)) route.least.add(name);
      }
    }
  }
}

const routes = [];
for (const [method, path] of SERVED) {
  const { permissions, least } = served.get(`${method} ${path}`);
  const supplement = SUPPLEMENTS.find((s) => s.method === method && s.path === path);
  if (!permissions.size && !supplement) throw new Error(`${method} ${path}: no Application permission in the table and no documented supplement`);
  if (permissions.size) routes.push({ method, path, permissions: [...permissions].sort(), least: [...least].sort() });
  else routes.push({ method, path, permissions: supplement.permissions, least: supplement.least, source: supplement.source });
}

const propertyScoped = {};
for (const [name, properties] of Object.entries(PROPERTY_SCOPED)) {
  const app = table.permissions[name]?.schemes?.Application;
  if (!app) throw new Error(`${name}: no Application scheme in the table`);
  propertyScoped[name] = { properties, description: app.adminDescription };
}

for (const s of SUPPLEMENTS) applicationPaths[s.path] = [...new Set([...(applicationPaths[s.path] ?? []), s.method])].sort();
const sortedPaths = Object.fromEntries(
  Object.keys(applicationPaths)
    .sort()
    .map((k) => [k, applicationPaths[k]]),
);

const out = {
  'x-source':
    'Generated by scripts/gen-graph-permissions.js from microsoftgraph/microsoft-graph-devx-content permissions/new/permissions.json (commit e35d4ca42ba0); Application scheme only. Do not edit by hand.',
  routes,
  propertyScoped,
  applicationPaths: sortedPaths,
};
// One route, one permission and one path per line: small diffs when the table changes.
const lines = (obj) =>
  Object.entries(obj)
    .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(',\n');
const text = [
  '{',
  `"x-source": ${JSON.stringify(out['x-source'])},`,
  '"routes": [',
  routes.map((r) => `  ${JSON.stringify(r)}`).join(',\n'),
  '],',
  '"propertyScoped": {',
  lines(propertyScoped),
  '},',
  '"applicationPaths": {',
  lines(sortedPaths),
  '}',
  '}',
].join('\n');
JSON.parse(text);
writeFileSync(join(root, 'schemas', 'graph-permissions.json'), text + '\n');
console.log(`schemas/graph-permissions.json: ${routes.length} routes, ${Object.keys(sortedPaths).length} application paths`);
