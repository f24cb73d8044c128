/**
 * Which new passwords are refused, after NIST SP 800-63B §3.1.1.2: a minimum length, a blocklist of the
 * most common passwords, and the words of this account (its username and e-mail address); no
 * composition rules, which make passwords harder to remember and no harder to guess.
 */

export const MIN_PASSWORD_LENGTH = 12

/**
 * The most common passwords of 12 characters or more (shorter ones fail the length rule), from the
 * public breach-corpus top lists; lower-case, compared case-insensitively.
 */
const COMMON = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  '123456789012345',
  '1234567890qwerty',
  '111111111111',
  '000000000000',
  '123123123123',
  '1q2w3e4r5t6y',
  '1q2w3e4r5t6y7u',
  '1qaz2wsx3edc',
  '1qaz2wsx3edc4rfv',
  'qwertyuiop123',
  'qwertyuiopasdf',
  'qwerty123456',
  'qwertyqwerty',
  'asdfghjkl123',
  'zaq12wsxcde3',
  'abc123456789',
  'abcdefghijkl',
  'password1234',
  'password123!',
  'password12345',
  'passwordpassword',
  'p@ssw0rd1234',
  'iloveyou1234',
  'welcome12345',
  'welcome@1234',
  'letmein12345',
  'changeme1234',
  'administrator',
  'administrator1',
  'adminadmin123',
  'trustno1trustno1',
  'football1234',
  'baseball1234',
  'superman1234',
  'princess1234',
  'sunshine1234',
  'starwars1234',
  'correcthorsebatterystaple',
])

/** Why `password` may not be used by this account, as a clause ("it ..."), or undefined when it may. */
export function weakPasswordReason(
  password: string,
  account: { readonly username: string; readonly email?: string | null },
): string | undefined {
  // Code points, not UTF-16 units: a password of 12 emoji is 12 characters (SP 800-63B §3.1.1.2).
  if ([...password].length < MIN_PASSWORD_LENGTH) return `it has fewer than ${MIN_PASSWORD_LENGTH} characters`
  const folded = password.toLowerCase()
  if (folded === account.username.toLowerCase() || folded === account.email?.toLowerCase())
    return 'it is the username or the e-mail address'
  if (COMMON.has(folded) || /^(.)\1*$/u.test(password)) return 'it is one of the most common passwords'
  return undefined
}
