import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'
import { getJson } from '../helpers/http.js'
import { BIN, spawnSimulator } from '../helpers/spawn-simulator.js'

describe('thena-sync simulate', () => {
  it('prints the base URL and the token, and serves the API until SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'simulate', '--port', '0', '--records', '30', '--seed', '9'],
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
  })
})
