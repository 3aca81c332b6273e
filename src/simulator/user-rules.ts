// Directory rules for user writes beyond the schema: UPN syntax and verified domain, uniqueness,
// password complexity, federated-domain immutableId, documented value limits, and the refusal to
// write properties of users mastered on-premises (Entra Connect).
import { badRequest, invalidValue, objectConflict, onPremMastered } from './errors';
import type { Directory, UserObject } from './directory';
import { federatedRequiredOnCreate, isValidMailNickname, lengthExceeded, userSchema } from './schema';
import type { Json } from './types';

// UPN alias characters Entra allows: letters, digits and ' . - _ ! # ^ ~ (learn.microsoft.com, "UserPrincipalName formats").
const UPN = /^(?!\.)(?!.*\.\.)([A-Za-z0-9'._!#^~-]{1,64})(?<!\.)@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$/;
const USAGE_LOCATION = /^[A-Z]{2}$/;

// Properties Entra still lets the cloud write on a user synced from on-premises AD.
const CLOUD_WRITABLE_WHEN_SYNCED = new Set(['usageLocation']);

export function isSyncedFromOnPrem(user: UserObject): boolean {
  return user.props.onPremisesSyncEnabled === true;
}

// A user synced once and no longer (onPremisesSyncEnabled false) is cloud mastered, except its
// Exchange custom attributes: "For a cloud-only user previously synced from on-premises Active
// Directory, these properties are read-only in Microsoft Graph" (user resource,
// onPremisesExtensionAttributes).
const READ_ONLY_WHEN_FORMERLY_SYNCED = new Set(['onPremisesExtensionAttributes']);

export const externallyMastered = () => badRequest('Unable to update the specified properties for objects that have originated within an external service.');

export function refuseIfOnPremMastered(user: UserObject, keys: string[]): void {
  if (user.props.onPremisesSyncEnabled === false && keys.some((k) => READ_ONLY_WHEN_FORMERLY_SYNCED.has(k))) throw externallyMastered();
  if (!isSyncedFromOnPrem(user)) return;
  if (keys.some((k) => !CLOUD_WRITABLE_WHEN_SYNCED.has(k) || userSchema.readOnlyWhenSynced.has(k))) throw onPremMastered();
}

const upnDomainInvalid = () =>
  badRequest('The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.', [
    {
      code: 'InvalidValue',
      message: 'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.',
      target: 'userPrincipalName',
    },
  ]);

/** Why Entra would refuse this userPrincipalName (syntax, unverified domain, taken), or null. */
export function upnProblem(dir: Directory, upn: string, selfId?: string): string | null {
  const m = UPN.exec(upn);
  if (!m) return `Invalid value specified for property 'userPrincipalName' of resource 'User'.`;
  if (!dir.domain(m[2]))
    return 'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.';
  if (dir.upnTaken(upn, selfId)) return 'Another object with the same value for property userPrincipalName already exists.';
  return null;
}

function checkUpn(dir: Directory, upn: string, selfId?: string): void {
  const m = UPN.exec(upn);
  if (!m) throw invalidValue('userPrincipalName', 'User');
  if (!dir.domain(m[2])) throw upnDomainInvalid();
  if (dir.upnTaken(upn, selfId)) throw objectConflict('userPrincipalName');
}

/** Entra's default policy: 8 to 256 characters with three of lowercase, uppercase, digit, symbol. */
function checkPassword(password: unknown): void {
  const p = typeof password === 'string' ? password : '';
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(p)).length;
  if (p.length < 8 || p.length > 256 || classes < 3)
    throw badRequest('The specified password does not comply with password complexity requirements. Please provide a different password.', [
      { code: 'InvalidValue', target: 'passwordProfile' },
    ]);
}

export function checkUserValues(input: Json): void {
  const nick = input.mailNickname;
  if (typeof nick === 'string' && !isValidMailNickname(nick)) throw invalidValue('mailNickname', 'User');
  if (input.usageLocation !== undefined && input.usageLocation !== null && !USAGE_LOCATION.test(String(input.usageLocation)))
    throw invalidValue('usageLocation', 'User');
  if (input.displayName !== undefined && (input.displayName === null || input.displayName === '')) throw invalidValue('displayName', 'User');
  const phones = input.businessPhones as unknown[] | undefined;
  if (phones && phones.length > 1) throw invalidValue('businessPhones', 'User');
  const others = input.otherMails as string[] | undefined;
  if (others && (others.length > 250 || others.some((m) => m.length > 250))) throw lengthExceeded('otherMails', 'User');
  const immutable = input.onPremisesImmutableId;
  if (typeof immutable === 'string' && /[$_]/.test(immutable)) throw invalidValue('onPremisesImmutableId', 'User');
  const ext = input.onPremisesExtensionAttributes as Record<string, unknown> | null | undefined;
  if (ext && Object.values(ext).some((v) => typeof v === 'string' && v.length > 1024)) throw lengthExceeded('onPremisesExtensionAttributes', 'User');
}

// Setting mail adds SMTP:mail to proxyAddresses, which are unique across directory objects; Graph
// refuses a mail another object already holds as a proxy address.
const MAIL_TAKEN = 'Another object with the same value for property proxyAddresses already exists.';

/** Why Entra would refuse this mail (another user holds it as a proxy address), or null. */
export function mailProblem(dir: Directory, mail: unknown, selfId?: string): string | null {
  return typeof mail === 'string' && dir.proxyTaken(`smtp:${mail}`, selfId) ? MAIL_TAKEN : null;
}

function checkMailUnique(dir: Directory, mail: unknown, selfId?: string): void {
  const message = mailProblem(dir, mail, selfId);
  if (message) throw badRequest(message, [{ code: 'ObjectConflict', message, target: 'proxyAddresses' }]);
}

/** The properties Graph gives a new user before the written ones (`at` its creation time). */
export function newUserProps(props: Json, at: string): Json {
  return {
    businessPhones: [],
    otherMails: [],
    imAddresses: [],
    assignedLicenses: [],
    assignedPlans: [],
    provisionedPlans: [],
    proxyAddresses: typeof props.mail === 'string' ? [`SMTP:${props.mail}`] : [],
    userType: 'Member',
    creationType: null,
    onPremisesSyncEnabled: null,
    onPremisesLastSyncDateTime: null,
    usageLocation: null,
    createdDateTime: at,
    lastPasswordChangeDateTime: at,
    signInSessionsValidFromDateTime: at,
    deletedDateTime: null,
    ...props,
  };
}

/** Sets mail, which becomes the primary SMTP proxy address (the former primary stays, as a secondary). */
export function setUserMail(dir: Directory, user: UserObject, mail: string): void {
  const proxies = ((user.props.proxyAddresses as string[]) ?? [])
    .map((p) => p.replace(/^SMTP:/, 'smtp:'))
    .filter((p) => p.toLowerCase() !== `smtp:${mail.toLowerCase()}`);
  user.props.mail = mail;
  dir.setProxyAddresses(user, [`SMTP:${mail}`, ...proxies]);
}

function checkImmutableIdUnique(dir: Directory, value: unknown, selfId?: string): void {
  if (typeof value !== 'string') return;
  if (dir.immutableIdTaken(value, selfId)) throw objectConflict('onPremisesImmutableId');
}

export function checkUserCreate(dir: Directory, input: Json): void {
  checkUserValues(input);
  const upn = String(input.userPrincipalName);
  checkUpn(dir, upn);
  const domain = dir.domain(upn.split('@')[1]);
  // Federated domains need onPremisesImmutableId (user-post-users); Graph answers with its generic message.
  if (domain?.type === 'Federated' && federatedRequiredOnCreate.some((k) => !input[k])) throw badRequest('One or more properties contains invalid values.');
  checkPassword((input.passwordProfile as Json).password);
  checkImmutableIdUnique(dir, input.onPremisesImmutableId);
  checkMailUnique(dir, input.mail);
}

export function checkUserUpdate(dir: Directory, user: UserObject, input: Json): void {
  checkUserValues(input);
  if (input.userPrincipalName !== undefined) {
    if (typeof input.userPrincipalName !== 'string') throw invalidValue('userPrincipalName', 'User');
    checkUpn(dir, input.userPrincipalName, user.id);
  }
  if (input.passwordProfile) {
    // Users of a federated domain sign in at their IdP: Entra holds no password to reset for them.
    const domain = dir.domain(String(user.props.userPrincipalName).split('@')[1] ?? '');
    if (domain?.type === 'Federated')
      throw badRequest('Password reset is not supported for users of a federated domain.', [{ code: 'InvalidValue', target: 'passwordProfile' }]);
    checkPassword((input.passwordProfile as Json).password);
  }
  checkImmutableIdUnique(dir, input.onPremisesImmutableId, user.id);
  checkMailUnique(dir, input.mail, user.id);
}
