/**
 * HTTP-date (RFC 9110 §5.6.7) as nginx's ngx_parse_http_time reads it for Kong's clock-skew check: the
 * IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, the obsolete RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` and
 * asctime `Sun Nov  6 08:49:37 1994`. Not Date.parse, which takes almost anything (`1`, `2024`, ISO
 * strings in local time) and would let a malformed date pass the check.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const IMF = /^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const RFC850 = /^[A-Z][a-z]{5,8}, (\d{2})-([A-Z][a-z]{2})-(\d{2}|\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const ASCTIME = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/

/** Milliseconds since the epoch, or null when `value` is not an HTTP-date. */
export function parseHttpDate(value: string): number | null {
  let m = IMF.exec(value) ?? RFC850.exec(value)
  if (m !== null) return utc(m[3]!, m[2]!, m[1]!, m[4]!, m[5]!, m[6]!)
  m = ASCTIME.exec(value)
  return m === null ? null : utc(m[6]!, m[1]!, m[2]!.trim(), m[3]!, m[4]!, m[5]!)
}

function utc(y: string, mon: string, d: string, h: string, min: string, s: string): number | null {
  const month = MONTHS.indexOf(mon)
  let year = Number(y)
  // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
  if (y.length === 2) year += year < 70 ? 2000 : 1900
  const [day, hour, minute, second] = [Number(d), Number(h), Number(min), Number(s)]
  if (month < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null
  const ms = Date.UTC(year, month, day, hour, minute, second)
  // Date.UTC rolls 31 Feb over into March: such a date is not one.
  return new Date(ms).getUTCDate() === day ? ms : null
}
