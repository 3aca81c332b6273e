// preferredLanguage and immutableId in the forms Graph takes (graph-values.ts).
import { graphReadyUser, normalisePreferredLanguage } from '../../../src/scim/graph-values';

const BRIDGE = 'urn:ietf:params:scim:schemas:extension:graphbridge:2.0:User';
const RULE = 'send one culture as Graph stores it, an ISO 639-1 language and an ISO 3166 country or region such as "en-US" (or the language alone, "en")';

test.each([
  ['en-US', 'en-US'],
  ['EN-us', 'en-US'],
  ['en_GB', 'en-GB'],
  ['en-US,en;q=0.9', 'en-US'],
  ['da, en-gb;q=0.8, en;q=0.7', 'da'],
  ['en;q=0.9, fr-CA;q=0.8, en-AU;q=0.5', 'en-AU'],
  ['en, en-US;q=0.8, en-GB;q=0.7', 'en'],
  ['fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5', 'fr-CH'],
  ['de;q=0.5, nl-BE', 'nl-BE'],
  ['xh', 'xh'],
])('preferredLanguage %j becomes %j', (given, expected) => {
  expect(normalisePreferredLanguage(given)).toBe(expected);
});

test.each([
  ['*', `preferredLanguage "*" does not name one culture: ${RULE}`],
  ['fil-PH', `preferredLanguage "fil-PH" does not name one culture: ${RULE}`],
  ['zh-Hant-TW', `preferredLanguage "zh-Hant-TW" does not name one culture: ${RULE}`],
  ['en-US;q=0', `preferredLanguage "en-US;q=0" does not name one culture: ${RULE}`],
  ['en-US;;', `preferredLanguage "en-US;;" is not a language tag or Accept-Language list: ${RULE}`],
  ['English', `preferredLanguage "English" does not name one culture: ${RULE}`],
])('preferredLanguage %j is refused with the rule', (given, detail) => {
  expect(() => normalisePreferredLanguage(given)).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidValue', message: detail }));
});

test('immutableId with $ or _ is refused; an unchanged stored one is left alone', () => {
  const user = (immutableId: string) => ({ userName: 'a@b.c', [BRIDGE]: { immutableId } });
  expect(() => graphReadyUser(null, user('abc_def'))).toThrow(`${BRIDGE}:immutableId may not contain "$" or "_": Graph refuses them in onPremisesImmutableId`);
  expect(() => graphReadyUser(user('x'), user('a$b'))).toThrow(/may not contain/);
  expect(graphReadyUser(user('abc_def'), { ...user('abc_def'), title: 'new' })).toEqual({ ...user('abc_def'), title: 'new' });
  expect(graphReadyUser(null, user('Z3JhY2U+/w=='))).toEqual(user('Z3JhY2U+/w=='));
});
