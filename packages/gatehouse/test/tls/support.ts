/**
 * What the TLS suites share: certificates made with the `openssl` command in a temp dir (node:crypto
 * cannot issue X.509; nothing is committed), HTTPS upstreams on port 0, a gateway started with its
 * HTTPS listener, and clients that report which certificate the gateway served.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { connect as http2Connect } from 'node:http2'
import {
  type Agent,
  createServer as createHttpsServer,
  type Server as HttpsServer,
  request as httpsRequest,
} from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { type TLSSocket, connect as tlsConnect } from 'node:tls'
import { type GatehouseProcess, type StartOptions, startGatehouse } from '../harness/gatehouse.ts'
import { trackServer } from '../harness/resources.ts'

export interface Issued {
  /** Absolute paths. */
  readonly cert: string
  readonly key: string
}

export interface IssueOptions {
  /** The subject, e.g. `/CN=shop.example`. */
  readonly subject: string
  /** subjectAltName entries, e.g. `DNS:shop.example`, `IP:127.0.0.1`. */
  readonly san?: readonly string[]
  /** The issuing CA; self-signed without. */
  readonly ca?: Issued
  /** A CA certificate (basicConstraints CA:TRUE). */
  readonly isCa?: boolean
}

/** A throwaway PKI in a temp dir. */
export class Pki {
  readonly dir = mkdtempSync(join(tmpdir(), 'gatehouse-pki-'))
  #count = 0

  /** A certificate and its key (P-256), signed by `ca` or by itself. */
  issue(name: string, options: IssueOptions): Issued {
    const cert = join(this.dir, `${name}.pem`)
    const key = join(this.dir, `${name}.key`)
    const ext = [
      ...(options.san?.length ? [`subjectAltName=${options.san.join(',')}`] : []),
      options.isCa ? 'basicConstraints=critical,CA:TRUE' : 'basicConstraints=CA:FALSE',
      ...(options.isCa ? ['keyUsage=critical,keyCertSign,cRLSign'] : []),
    ]
    const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key]
    const addext = ext.flatMap((e) => ['-addext', e])
    if (options.ca === undefined) {
      openssl(['req', '-x509', ...newKey, '-out', cert, '-days', '2', '-subj', options.subject, ...addext])
    } else {
      const csr = join(this.dir, `${name}.csr`)
      openssl(['req', '-new', ...newKey, '-out', csr, '-subj', options.subject, ...addext])
      const serial = `0x${randomBytes(8).toString('hex')}${++this.#count}`
      openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        options.ca.cert,
        '-CAkey',
        options.ca.key,
        '-set_serial',
        serial,
        '-copy_extensions',
        'copy',
        '-days',
        '2',
        '-out',
        cert,
      ])
    }
    return { cert, key }
  }

  /** A self-signed certificate valid only on 1-2 January 2020. */
  expired(name: string, subject: string): Issued {
    const cert = join(this.dir, `${name}.pem`)
    const key = join(this.dir, `${name}.key`)
    const csr = join(this.dir, `${name}.csr`)
    const db = join(this.dir, `${name}-ca`)
    execFileSync('mkdir', ['-p', db])
    writeFileSync(join(db, 'index.txt'), '')
    writeFileSync(join(db, 'serial'), '01\n')
    writeFileSync(
      join(db, 'ca.cnf'),
      `[ca]\ndefault_ca=d\n[d]\ndatabase=${db}/index.txt\nnew_certs_dir=${db}\nserial=${db}/serial\n` +
        'default_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n',
    )
    openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      subject,
    ])
    openssl([
      'ca',
      '-batch',
      '-config',
      join(db, 'ca.cnf'),
      '-selfsign',
      '-keyfile',
      key,
      '-in',
      csr,
      '-out',
      cert,
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200102000000Z',
      '-notext',
    ])
    return { cert, key }
  }

  /** `file` as a path relative to another temp dir (a config file's folder under the same tmpdir). */
  relative(file: string): string {
    return `../${basename(this.dir)}/${basename(file)}`
  }

  read(file: string): string {
    return readFileSync(file, 'utf8')
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

export interface HttpsUpstream {
  readonly server: HttpsServer
  readonly port: number
  close(): Promise<void>
}

/**
 * An HTTPS echo upstream on 127.0.0.1: answers JSON with what it received and the client certificate's
 * subject CN (null when none was presented), after `X-Delay-Ms` when the request has it. With
 * `clientCa`, a client certificate from it is required.
 */
export async function startHttpsUpstream(
  served: { cert: string; key: string },
  clientCa?: string,
): Promise<HttpsUpstream> {
  const sockets = new Set<Socket>()
  const server = createHttpsServer(
    {
      cert: served.cert,
      key: served.key,
      ...(clientCa !== undefined ? { requestCert: true, rejectUnauthorized: true, ca: clientCa } : {}),
    },
    (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const peer = (req.socket as TLSSocket).getPeerCertificate()
        const body = JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          client: peer?.subject?.CN ?? null,
        })
        const answer = () => {
          res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'tls' })
          res.end(body)
        }
        const delay = Number(req.headers['x-delay-ms'] ?? 0)
        if (delay > 0) setTimeout(answer, delay)
        else answer()
      })
    },
  )
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  trackServer('tls upstream', server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A gateway with its HTTPS listener on a free port; `tlsPort` is that port. */
export async function startTlsGatehouse(
  options: StartOptions,
): Promise<{ gh: GatehouseProcess; tlsPort: number }> {
  const gh = await startGatehouse({
    ...options,
    args: ['--proxy-tls-listen', '127.0.0.1:0', ...(options.args ?? [])],
  })
  const started = gh.lines.find((l) => l.msg === 'gatehouse started')!
  const address = started.proxy_tls as string
  return { gh, tlsPort: Number(address.slice(address.lastIndexOf(':') + 1)) }
}

/** What a handshake negotiated: the served certificate's subject (CN and O) and the ALPN protocol. */
export function handshake(
  port: number,
  servername: string | null,
  ca: string,
  alpn: string[] = ['h2', 'http/1.1'],
): Promise<{ cn: string; o: string | undefined; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      {
        host: '127.0.0.1',
        port,
        ca,
        ALPNProtocols: alpn,
        // The chain is verified; which name the certificate covers is what the tests look at.
        checkServerIdentity: () => undefined,
        ...(servername !== null ? { servername } : {}),
      },
      () => {
        const subject = socket.getPeerCertificate().subject
        resolve({
          cn: subject.CN as string,
          o: subject.O as string | undefined,
          alpn: socket.alpnProtocol ?? false,
        })
        socket.destroy()
      },
    )
    socket.once('error', reject)
  })
}

export interface TlsResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
  /** Subject O of the certificate the connection was made with, and that connection's local port. */
  certificateO: string | undefined
  localPort: number
}

/** An HTTP/1.1 request over TLS to 127.0.0.1:`port`, SNI and Host `host`. */
export function httpsGet(
  port: number,
  host: string,
  path: string,
  options: { ca: string; agent?: Agent; method?: string; body?: string; headers?: Record<string, string> },
): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        servername: host,
        ca: options.ca,
        headers: { host, ...options.headers },
        agent: options.agent ?? false,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = []
        // A keep-alive agent takes the socket back at the end.
        const socket = res.socket as TLSSocket
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            certificateO: socket.getPeerCertificate().subject?.O as string | undefined,
            localPort: socket.localPort ?? 0,
          })
        })
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** One HTTP/2 request (ALPN h2) to 127.0.0.1:`port`, SNI and :authority `host`. */
export function h2Request(
  port: number,
  host: string,
  headers: Record<string, string>,
  options: { ca: string; body?: string },
): Promise<{ headers: Record<string, string | string[] | undefined>; body: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://127.0.0.1:${port}`, { ca: options.ca, servername: host })
    session.once('error', reject)
    const stream = session.request(
      { ':authority': host, ...headers },
      { endStream: options.body === undefined },
    )
    let body = ''
    let head: Record<string, string | string[] | undefined> = {}
    stream.setEncoding('utf8')
    stream.on('response', (h) => {
      head = h as typeof head
    })
    stream.on('data', (c: string) => {
      body += c
    })
    stream.on('end', () => {
      const alpn = (session.socket as TLSSocket).alpnProtocol ?? false
      session.close()
      resolve({ headers: head, body, alpn })
    })
    stream.once('error', reject)
    if (options.body !== undefined) stream.end(options.body)
  })
}
