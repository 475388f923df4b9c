import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'
import { request } from 'undici'
import { getJson } from '../helpers/http.js'
import { BIN, spawnSimulator } from '../helpers/spawn-simulator.js'

/** The first of `n` consecutive ports that were all free a moment ago. */
async function freePorts(n: number): Promise<number> {
  for (;;) {
    const servers: ReturnType<typeof createServer>[] = []
    const listen = (port: number) =>
      new Promise<number>((resolve, reject) => {
        const server = createServer()
        servers.push(server)
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
      })
    try {
      const first = await listen(0)
      for (let i = 1; i < n; i++) await listen(first + i)
      return first
    } catch {
      // One of the next ports is taken: try another first port.
    } finally {
      await Promise.all(
        servers.map((server) => new Promise((resolve) => server.close(() => resolve(undefined)))),
      )
    }
  }
}

describe('thena-sync simulate', () => {
  it('prints the base URLs and the credentials of the three APIs, and serves them until SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'simulate',
        '--port',
        '0',
        '--records',
        '30',
        '--seed',
        '9',
        '--tickets',
        '7',
        '--api-key',
        'k-123',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const lines: string[] = []
    const rl = createInterface({ input: child.stdout })
    await new Promise<void>((resolve) =>
      rl.on('line', (line) => {
        lines.push(line)
        if (line.startsWith('Press Ctrl-C')) resolve()
      }),
    )
    const url = /THENA_BASE_URL=(\S+)/.exec(lines.join('\n'))?.[1]
    const token = /THENA_API_TOKEN=(\S+)/.exec(lines.join('\n'))?.[1]
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(token).toBe('sim-token')
    const page = await getJson<{ data: { results: unknown[] } }>(url!, '/rest/v2/requests', token)
    expect(page.data.results).toHaveLength(30)
    const text = lines.join('\n')
    const platform = /THENA_PLATFORM_BASE_URL=(\S+)/.exec(text)?.[1]
    const workflows = /THENA_WORKFLOWS_BASE_URL=(\S+)/.exec(text)?.[1]
    expect(/THENA_PLATFORM_API_KEY=(\S+)/.exec(text)?.[1]).toBe('k-123')
    expect(workflows).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/)
    const withKey = async (at: string, key = 'k-123') => {
      const res = await request(at, { headers: { 'x-api-key': key } })
      return { status: res.statusCode, body: (await res.body.json()) as { data: unknown[] } }
    }
    expect((await withKey(`${platform}/v1/tickets?limit=100`)).body.data).toHaveLength(7)
    expect((await withKey(`${platform}/v1/tickets`, 'wrong')).status).toBe(401)
    expect((await withKey(`${workflows}/workflows`)).body.data.length).toBeGreaterThan(0)
    const code = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    expect(await code).toBe(0)
  })

  it('takes paging switches and any option as JSON', async () => {
    const sim = await spawnSimulator([
      '--records',
      '12',
      '--paging',
      'page',
      '--options',
      '{"paging":{"pageParam":"p"},"users":3,"hiddenUsers":0}',
    ])
    try {
      const page = await getJson<{ data: { results: unknown[] } }>(
        sim.url,
        '/rest/v2/requests?limit=5&p=3',
        sim.token,
      )
      expect(page.data.results).toHaveLength(2)
      const users = await getJson<{ data: unknown[] }>(sim.url, '/rest/v2/users', sim.token)
      expect(users.data).toHaveLength(3)
    } finally {
      await sim.stop()
    }
  })

  it('--json gives each API its address and credentials; --port N puts the others on N+1, N+2', async () => {
    // Three ports in a row, free a moment ago: another test file may take one meanwhile, and
    // then the command exits with EADDRINUSE and the test tries other ports.
    let child: ReturnType<typeof spawn> | undefined
    let first: string | undefined
    let port = 0
    for (let attempt = 0; first === undefined && attempt < 5; attempt++) {
      port = await freePorts(3)
      child = spawn(process.execPath, [BIN, 'simulate', '--json', '--port', String(port)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stderr = ''
      child.stderr!.on('data', (d) => (stderr += String(d)))
      first = await new Promise<string | undefined>((resolve) => {
        createInterface({ input: child!.stdout! }).once('line', resolve)
        child!.once('close', () => resolve(undefined))
      })
      if (first === undefined) expect(stderr).toContain('EADDRINUSE')
    }
    if (first === undefined || !child) throw new Error('no three free ports in a row in 5 tries')
    const info = JSON.parse(first) as {
      url: string
      platform: { url: string; apiKey: string }
      workflows: { url: string; apiKey: string }
    }
    expect([info.url, info.platform.url, info.workflows.url]).toEqual([
      `http://127.0.0.1:${port}`,
      `http://127.0.0.1:${port + 1}`,
      `http://127.0.0.1:${port + 2}/api/v1`,
    ])
    expect([info.platform.apiKey, info.workflows.apiKey]).toEqual([
      'sim-platform-key',
      'sim-platform-key',
    ])
    const code = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    expect(await code).toBe(0)
  })

  it('a bad option is one line naming it, exit code 2', async () => {
    const child = spawn(process.execPath, [BIN, 'simulate', '--options', '{"records":-1}'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += String(d)))
    const code = await new Promise((resolve) => child.once('exit', resolve))
    expect(code).toBe(2)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toContain('records')
    const typo = spawn(process.execPath, [BIN, 'simulate', '--platform-options', '{"tickts":5}'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let typoErr = ''
    typo.stderr.on('data', (d) => (typoErr += String(d)))
    expect(await new Promise((resolve) => typo.once('exit', resolve))).toBe(2)
    expect(typoErr.trim()).toBe(
      'thena-sync: Invalid Platform simulator option `tickts`: Unrecognized key: "tickts"',
    )
  })
})
