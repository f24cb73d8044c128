/**
 * One active health probe of one endpoint, on a connection of its own (as Kong's healthchecker does),
 * so a probe sees what a new connection would: a refused connect, a TLS failure, a slow answer.
 * `http`/`https` send `GET http_path` and report the status; `tcp` only connects.
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { connect } from 'node:net'
import type { Healthchecks } from '../config/schema/upstream.ts'
import type { Endpoint } from './endpoint.ts'
import type { Outcome } from './health.ts'

type ActiveChecks = Healthchecks['active']

const USER_AGENT = 'gatehouse-healthcheck'

/** The probe's outcome: the status (`tcp`: 200 once connected), or the failure. Never rejects. */
export function probe(endpoint: Endpoint, checks: ActiveChecks): Promise<Outcome> {
  const timeout = checks.timeout * 1000
  return checks.type === 'tcp' ? probeTcp(endpoint, timeout) : probeHttp(endpoint, checks, timeout)
}

function probeTcp(endpoint: Endpoint, timeout: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: endpoint.address, port: endpoint.port })
    const timer = setTimeout(() => done('timeout'), timeout)
    function done(outcome: Outcome): void {
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    socket.once('connect', () => done(200))
    socket.once('error', () => done('tcp_failure'))
  })
}

function probeHttp(endpoint: Endpoint, checks: ActiveChecks, timeout: number): Promise<Outcome> {
  const https = checks.type === 'https'
  const headers: Record<string, string | string[]> = { 'user-agent': USER_AGENT, ...checks.headers }
  headers.host ??= endpoint.hostHeader
  return new Promise((resolve) => {
    let settled = false
    const req = (https ? httpsRequest : httpRequest)({
      host: endpoint.address,
      port: endpoint.port,
      method: 'GET',
      path: checks.http_path,
      headers,
      agent: false,
      ...(https
        ? {
            servername: checks.https_sni ?? endpoint.servername ?? undefined,
            rejectUnauthorized: checks.https_verify_certificate,
          }
        : {}),
    })
    const timer = setTimeout(() => done('timeout'), timeout)
    function done(outcome: Outcome): void {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req.destroy()
      resolve(outcome)
    }
    req.once('response', (res) => {
      res.resume()
      done(res.statusCode ?? 'tcp_failure')
    })
    req.once('error', () => done('tcp_failure'))
    req.end()
  })
}
