import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { describeAgent } from './session-origin.ts'

describe('describing where a session was used from', () => {
  it('names the browser family and platform of common User-Agents, and nothing for unknown ones', () => {
    const cases: [string, string][] = [
      [
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36',
        'Chrome on Linux',
      ],
      [
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0',
        'Edge on Windows',
      ],
      [
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1',
        'Safari on iOS',
      ],
      [
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.0; rv:121.0) Gecko/20100101 Firefox/121.0',
        'Firefox on macOS',
      ],
      [
        'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36',
        'Chrome on Android',
      ],
      ['curl/8.0', ''],
      ['', ''],
    ]
    for (const [agent, expected] of cases) assert.equal(describeAgent(agent), expected, agent)
  })
})
