// The operator's console as a person uses it, in headless Chromium (Debian's, driven by
// playwright-core), on a store seeded with 2,000 users: sign in, overview, users paged and
// filtered, a user's page, sync now, groups with paged members, pending deletions approved and
// rejected, drift, the audit log and Graph requests. Values from an IdP show as text, never as
// markup, and the pages run under the console's CSP without a violation. With CONSOLE_SCREENSHOTS=1
// each page is screenshotted (1366x768 laptop viewport) into .tmp/screenshots/ for a person to look
// at; the test asserts nothing of them, and a full-page screenshot costs Chromium about 0.1 s.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import request from 'supertest';
import { createLogger } from '../../src/log';
import { type Bridge, startBridge } from '../../src/main';
import { until } from '../e2e/cli-process';
import { consoleConfig, SEED_ERROR, seedConsoleStore, type SeedOptions } from './console-seed';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
// CI installs Chromium (.ci/run), so there the test must run, and fails without it. Elsewhere a
// missing Chromium skips it, said where the run's output is read rather than as a quiet "skipped".
const SKIPPED = !HAVE_CHROMIUM && !process.env.CI;
if (SKIPPED) process.stderr.write(`\n  SKIPPED: the console browser test needs ${CHROMIUM} (apt-get install chromium); with CI=true it fails instead\n\n`);
if (!HAVE_CHROMIUM && process.env.CI) {
  test('Chromium is installed for the console browser test', () => {
    throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  });
}
const run = HAVE_CHROMIUM ? describe : describe.skip;

const SHOTS = join(__dirname, '..', '..', '.tmp', 'screenshots');
const ADMIN_TOKEN = 'browser-test-admin-token-0123456789';
const OKTA = 'browser-test-okta-token-0123456789';
const HR = 'browser-test-hr-token-0123456789';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const XSS_NAME = '<img src=x onerror="window.__pwned=1">@example.com';

run(HAVE_CHROMIUM ? 'the operator console in a browser, 2,000 users' : `the operator console in a browser (SKIPPED: no ${CHROMIUM})`, () => {
  let dir: string;
  let bridge: Bridge;
  let browser: Browser;
  let page: Page;
  let origin: string;
  let seeded: ReturnType<typeof seedConsoleStore>;
  let adaId: string;
  const problems: string[] = [];
  const shot = async (name: string) => {
    if (process.env.CONSOLE_SCREENSHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const text = async (selector: string) => ((await page.textContent(selector)) ?? '').replace(/\s+/g, ' ').trim();
  const rows = (selector: string) =>
    page.$$eval(`${selector} tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));
  const scim = () => request(origin);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'bridge-console-'));
    const options: SeedOptions = { database: join(dir, 'b.sqlite'), users: 2000, errors: 10, adminToken: ADMIN_TOKEN, sourceTokens: { okta: OKTA, hr: HR } };
    const config = consoleConfig(options);
    seeded = seedConsoleStore(config, options);
    bridge = await startBridge(config, { logger: createLogger('silent') });
    origin = bridge.scimUrl.replace(/\/scim\/v2$/, '');

    const post = (body: object) => scim().post('/scim/v2/Users').set('Authorization', `Bearer ${OKTA}`).send(body);
    const ada = await post({
      schemas: [USER, ENTERPRISE],
      userName: 'ada@example.com',
      displayName: 'Ada Lovelace',
      title: 'Analyst',
      [ENTERPRISE]: { department: 'Research' },
    });
    expect(ada.status).toBe(201);
    adaId = ada.body.id;
    expect((await post({ schemas: [USER], userName: 'mallory@nowhere.test', displayName: 'Mallory' })).status).toBe(201);
    expect((await post({ schemas: [USER], userName: XSS_NAME, displayName: '<b>bold</b>' })).status).toBe(201);
    const leavers: string[] = [];
    for (let i = 1; i <= 6; i++) {
      const r = await post({ schemas: [USER], userName: `leaver${i}@example.com`, displayName: `Okta Leaver ${i}` });
      expect(r.status).toBe(201);
      leavers.push(r.body.id);
    }
    // A group of 60: Ada and 59 seeded users.
    const some = await scim()
      .get('/scim/v2/Users')
      .query({ filter: 'userName sw "user0"', count: 59, attributes: 'id' })
      .set('Authorization', `Bearer ${OKTA}`);
    const group = await scim()
      .post('/scim/v2/Groups')
      .set('Authorization', `Bearer ${OKTA}`)
      .send({
        schemas: [GROUP],
        displayName: 'Research Staff',
        members: [{ value: adaId }, ...some.body.Resources.map((r: { id: string }) => ({ value: r.id }))],
      });
    expect(group.status).toBe(201);
    const health = () => scim().get('/healthz').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    await until(async () => {
      const h = await health();
      return h.body.resources.User.synced === 1990 + 1 + 6 && h.body.resources.User.error === 12 && h.body.resources.Group.skipped === 1 ? true : undefined;
    });
    // Six deletions at once (one transaction each, no run in between): over the threshold of 5, so held.
    for (const id of leavers) bridge.store.users.remove(id, { sourceId: 'okta' });
    await until(async () => ((await health()).body.engine.reasons.length === 2 ? true : undefined));

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    // A CSP violation is reported on the console as an error.
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('dialog', (d) => void d.accept());
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await bridge?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('sign in, then the overview: engine state and why, counts by type and state, preflight checks, progress, budget', async () => {
    await page.goto(`${origin}/admin/`);
    expect(page.url()).toBe(`${origin}/admin/login`);
    await shot('login');
    await page.fill('input[name=token]', ADMIN_TOKEN);
    await page.click('button[type=submit]');
    await page.waitForSelector('h1:text("Overview")');
    expect(page.url()).toBe(`${origin}/admin/`);

    expect(await text('#engine .badge')).toBe('paused');
    expect(await page.$$eval('#engine ul.reasons li', (lis) => lis.map((li) => li.textContent))).toEqual([
      'deprovisioning paused for source hr: 6 pending',
      'deprovisioning paused for source okta: 6 pending',
    ]);
    expect(await rows('#counts')).toEqual([
      ['0', '1,991', '12', '0', '0', '12', '0'],
      ['0', '0', '0', '0', '1', '0', '0'],
    ]);
    expect(await page.$$eval('#counts th', (ths) => ths.map((th) => th.textContent))).toEqual([
      'Resources',
      'pending',
      'synced',
      'error',
      'blocked',
      'skipped',
      'deprovisioning',
      'deprovisioned',
      'Users',
      'Groups',
    ]);
    expect(
      await page.$$eval('#preflight li', (lis) => lis.map((li) => `${li.querySelector('.badge')?.textContent} ${li.querySelector('strong')?.textContent}`)),
    ).toEqual([
      'pass Graph reachable, tenant readable',
      'pass App permissions of the Graph token',
      'pass No other sync engine on the tenant',
      'n/a Tenant directory-sync switch',
      'n/a No hybrid Azure AD join',
      'n/a No JIT directory in universal-sync',
      'pass Licenses named in the configuration exist',
    ]);
    expect(await text('#progress p')).toBe('1,991 of 2,003 resources synced (99%).');
    expect(await text('#budget')).toContain('of 3,000 allowed');
    expect(await text('#sources')).toContain('okta');
    expect(await text('#errors')).toContain(SEED_ERROR);
    await shot('overview');
    // A count is a link to the users in that state.
    await page.click('#counts a:text("12")');
    await page.waitForSelector('h1:text("Users")');
    expect(await text('.pager .count')).toBe('1–12 of 12 users');
  }, 60_000);

  test('users: paged through 2,003 users, filtered by state, source and text; IdP values are text', async () => {
    await page.click('nav a:text("Users")');
    await page.waitForSelector('#users');
    expect(await text('.pager .count')).toBe('1–50 of 2,003 users');
    const first = await rows('#users');
    expect(first).toHaveLength(50);
    expect(first.slice(0, 2).map((r) => r.slice(0, 5))).toEqual([
      [XSS_NAME, '<b>bold</b>', 'okta', 'yes', 'error'],
      ['ada@example.com', 'Ada Lovelace', 'okta', 'yes', 'synced'],
    ]);
    expect(first[2].slice(0, 5)).toEqual(['mallory@nowhere.test', 'Mallory', 'okta', 'yes', 'error']);
    expect(first[2][5]).toContain('userPrincipalName');
    expect(first[3].slice(0, 5)).toEqual(['user00001@example.com', 'Seeded User 00001', 'okta', 'yes', 'error']);
    expect(await page.$$('#users img, #users b')).toHaveLength(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await shot('users');

    await page.click('a[rel=next]');
    await page.waitForSelector('.pager .count:text("51–100 of 2,003 users")');
    expect((await rows('#users'))[0][0]).toBe('user00048@example.com');
    await page.goto(`${origin}/admin/users?page=41`);
    expect(await text('.pager .count')).toBe('2,001–2,003 of 2,003 users');
    expect((await rows('#users')).map((r) => r[0])).toEqual(['user01998@example.com', 'user01999@example.com', 'user02000@example.com']);

    await page.goto(`${origin}/admin/users`);
    await page.selectOption('select[name=state]', 'error');
    await page.click('form.filters button[type=submit]');
    await page.waitForSelector('.pager .count:text("1–12 of 12 users")');
    await page.fill('input[name=q]', 'Seeded User 0000');
    await page.click('form.filters button[type=submit]');
    await page.waitForSelector('.pager .count:text("1–9 of 9 users")');
    expect((await rows('#users')).every((r) => r[4] === 'error' && r[5] === SEED_ERROR)).toBe(true);
    await shot('users-filtered');
    await page.goto(`${origin}/admin/users?source=hr`);
    expect(await text('#users tbody')).toBe('No user matches.');
  }, 60_000);

  test('a user page: attributes with the source that set them, Graph values applied, Graph requests, audit timeline', async () => {
    await page.goto(`${origin}/admin/users?q=ada`);
    await page.click('#users a:text("ada@example.com")');
    await page.waitForSelector('#attributes');
    expect(page.url()).toBe(`${origin}/admin/users/${adaId}`);
    expect(await text('h1')).toBe('ada@example.com synced');
    const attrs = await rows('#attributes');
    expect(attrs.map((r) => r.slice(0, 3))).toEqual(
      expect.arrayContaining([
        ['userName', 'ada@example.com', 'okta'],
        ['displayName', 'Ada Lovelace', 'okta'],
        ['title', 'Analyst', 'okta'],
        ['enterprise.department', 'Research', 'okta'],
      ]),
    );
    expect(attrs.every((r) => !r[0].startsWith('urn:'))).toBe(true);
    expect(await rows('#applied')).toEqual(
      expect.arrayContaining([
        ['userPrincipalName', 'ada@example.com'],
        ['displayName', 'Ada Lovelace'],
        ['mailNickname', 'ada'],
        ['accountEnabled', 'true'],
      ]),
    );
    const graphId = bridge.store.sync.get('User', adaId)!.graphId!;
    expect(await text('#sync')).toContain(graphId);
    const requests = (await rows('#graph-requests')).map((r) => `${r[1]} ${r[2]}`);
    expect(requests).toContain('POST /users 201');
    expect(await rows('#timeline')).toEqual([[expect.any(String), 'user.create', 'okta', expect.any(String)]]);
    expect(await text('#groups-of')).toBe('Research Staff');
    await shot('user');
  }, 60_000);

  test('sync now provisions a user in error at once and lists the Graph requests it made; retry queues one', async () => {
    const id = seeded.errorUserIds[0];
    await page.goto(`${origin}/admin/users/${id}`);
    expect(await text('#last-error')).toBe(SEED_ERROR);
    await page.click('button:text("Sync now")');
    await page.waitForSelector('#sync-now');
    expect(page.url()).toMatch(new RegExp(`/admin/users/${id}\\?ran=\\d+#sync-now$`));
    expect(await text('#sync-now h2')).toBe('Sync now: 2 Graph requests');
    expect((await rows('#sync-now')).map((r) => `${r[1]} ${r[2]}`)).toEqual(['GET /users 200', 'POST /users 201']);
    expect(await text('h1')).toBe('user00001@example.com synced');
    const inGraph = (bridge.simulator!.state.snapshot().users as unknown as { userPrincipalName: string; id: string }[]).find(
      (u) => u.userPrincipalName === 'user00001@example.com',
    );
    expect(inGraph).toBeDefined();
    expect(await text('#sync')).toContain(inGraph!.id);
    await shot('user-sync-now');

    await page.goto(`${origin}/admin/users/${seeded.errorUserIds[1]}`);
    await page.click('button:text("Retry")');
    await page.waitForSelector('.notice');
    expect(await text('.notice')).toBe('Queued: the engine takes it on its next run.');
    await until(() => (bridge.store.sync.get('User', seeded.errorUserIds[1])!.state === 'synced' ? true : undefined));
  }, 60_000);

  test('groups: list with member counts and sync state; a group page with members paged', async () => {
    await page.click('nav a:text("Groups")');
    await page.waitForSelector('#groups');
    // profile-sync without groups.push: the group is skipped, with the reason.
    expect(await rows('#groups')).toEqual([['Research Staff', 'okta', '60', 'skipped', 'profile-sync pushes groups only with groups.push: true']]);
    await shot('groups');
    await page.click('#groups a:text("Research Staff")');
    await page.waitForSelector('#members');
    expect(await text('#members .pager .count')).toBe('1–50 of 60 members');
    const members = await rows('#members');
    // profile-sync without groups.push keeps groups for SCIM only, and the page says so.
    expect(members[0]).toEqual(['ada@example.com', 'User', 'not pushed']);
    expect(await text('#not-pushed')).toBe(
      'profile-sync writes groups only with groups.push: this group and its members are kept for SCIM (and licenses.groups) and are not sent to Graph.',
    );
    expect(members).toHaveLength(50);
    await shot('group');
    await page.click('#members a[rel=next]');
    await page.waitForSelector('#members .pager .count:text("51–60 of 60 members")');
    expect(await rows('#members')).toHaveLength(10);
  }, 60_000);

  test('pending deletions per source, listing who: approve one source, reject the other', async () => {
    await page.click('nav a:text("Pending deletions")');
    await page.waitForSelector('section.deletions');
    expect(await page.$$eval('section.deletions h2', (hs) => hs.map((h) => h.textContent))).toEqual(['hr: 6 pending paused', 'okta: 6 pending paused']);
    expect((await rows('section[data-source=hr]')).map((r) => r[0])).toEqual([1, 2, 3, 4, 5, 6].map((i) => `leaver${i}@hr.example.com`));
    expect((await rows('section[data-source=okta]')).map((r) => r[0])).toEqual([1, 2, 3, 4, 5, 6].map((i) => `leaver${i}@example.com`));
    await shot('deletions');

    await page.click('section[data-source=okta] button:text("Approve 6 deletions")');
    await page.waitForSelector('.notice');
    expect(await text('.notice')).toBe("Approved: 6 deprovisions go to Graph on the engine's next run.");
    await until(() => {
      const users = bridge.simulator!.state.snapshot().users as unknown as { userPrincipalName: string; accountEnabled: boolean }[];
      const leavers = users.filter((u) => /^leaver\d@example\.com$/.test(u.userPrincipalName));
      return leavers.length === 6 && leavers.every((u) => u.accountEnabled === false) ? true : undefined;
    });
    await page.goto(`${origin}/admin/deletions`);
    expect(await page.$$eval('section.deletions h2', (hs) => hs.map((h) => h.textContent))).toEqual(['hr: 6 pending paused']);

    // The simulator's request log, by sequence number (it keeps only the latest entries).
    const lastGraphSeq = () => bridge.simulator!.requests.list().at(-1)?.seq ?? 0;
    const before = lastGraphSeq();
    expect(before).toBeGreaterThan(0);
    await page.click('section[data-source=hr] button:text("Reject")');
    await page.waitForSelector('.notice');
    expect(await text('.notice')).toBe('Rejected: 6 Entra accounts were left as they are (recorded in the audit log).');
    expect(await text('main section')).toBe('No deletion is pending.');
    expect(lastGraphSeq()).toBe(before);

    await page.goto(`${origin}/admin/audit?action=sync.deletions.rejected`);
    const audit = await rows('#audit');
    expect(audit).toHaveLength(6);
    expect(audit.map((r) => [r[1], r[2]])).toEqual(Array(6).fill(['sync.deletions.rejected', 'hr']));
    expect(audit.map((r) => r[3]).sort()).toEqual([1, 2, 3, 4, 5, 6].map((i) => `leaver${i}@hr.example.com`));
  }, 90_000);

  test('drift shows the events the engine records, linked to the user', async () => {
    await page.click('nav a:text("Drift")');
    await page.waitForSelector('#drift');
    expect(await rows('#drift')).toEqual([
      ['2026-12-01 09:30:00Z', 'user02000@example.com', 'department, jobTitle', 'outside the bridge (Graph delta)', 'yes'],
    ]);
    await shot('drift');
    await page.click('#drift a:text("user02000@example.com")');
    await page.waitForSelector('#timeline');
    expect((await rows('#timeline')).map((r) => r[1])).toEqual(['sync.drift', 'user.create']);
  }, 60_000);

  test('audit log, filterable by action prefix, source and resource; Graph requests name their resource', async () => {
    await page.click('nav a:text("Audit log")');
    await page.waitForSelector('#audit');
    expect(await rows('#audit')).toHaveLength(50);
    await shot('audit');
    await page.fill('input[name=action]', 'sync.');
    await page.click('form.filters button[type=submit]');
    await page.waitForSelector('#audit');
    const actions = new Set((await rows('#audit')).map((r) => r[1]));
    expect([...actions].sort()).toEqual(['sync.deletions.approved', 'sync.deletions.rejected', 'sync.deprovision.disable', 'sync.drift']);
    await page.goto(`${origin}/admin/audit?resource=${adaId}`);
    expect((await rows('#audit')).map((r) => [r[1], r[3]])).toEqual([['user.create', 'ada@example.com']]);

    await page.click('nav a:text("Graph requests")');
    await page.waitForSelector('#graph-log');
    const log = await rows('#graph-log');
    expect(log.map((r) => `${r[1]} ${r[2]} ${r[3]}`)).toContain('POST /users 201 ada@example.com');
    const refused = log.find((r) => r[3] === 'mallory@nowhere.test' && r[1] === 'POST /users');
    expect(refused?.[2]).toBe('400');
    expect(refused?.[4]).toContain('userPrincipalName');
    await shot('graph');
  }, 60_000);

  test('sign out ends the session; no page raised an error or a CSP violation', async () => {
    await page.click('header button:text("Sign out")');
    await page.waitForSelector('input[name=token]');
    await page.goto(`${origin}/admin/users`);
    expect(page.url()).toBe(`${origin}/admin/login`);
    expect(problems).toEqual([]);
  }, 30_000);
});
