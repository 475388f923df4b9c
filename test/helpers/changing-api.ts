import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Ticket {
  id: string
  updatedAt: string
  createdAt?: string
}
export interface Comment {
  id: string
  body: string
  createdAt?: string
}

/**
 * A Platform-like API: `/tickets?page&limit` (0-based, in a fixed order, no filter),
 * `/comments?ticketId=`, and `/accounts` (one account). `onRequest` runs before each answer (a test changes data there);
 * `answer` may replace it.
 */
export class ChangingApi {
  readonly tickets: Ticket[] = []
  readonly comments = new Map<string, Comment[]>()
  readonly asked: string[] = []
  /** Largest page the API serves, whatever `limit` asks (a server's own maximum). */
  maxLimit = Infinity
  onRequest: (url: URL) => void = () => undefined
  answer: (url: URL) => { status: number; body: string } | undefined = () => undefined
  url = ''
  readonly #server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://api')
    this.asked.push(`${url.pathname}${url.search}`)
    this.onRequest(url)
    const replaced = this.answer(url)
    res.setHeader('content-type', 'application/json')
    if (replaced) {
      res.statusCode = replaced.status
      res.end(replaced.body)
      return
    }
    const page = Number(url.searchParams.get('page'))
    const limit = Math.min(Number(url.searchParams.get('limit')), this.maxLimit)
    const paged = (list: readonly unknown[]) =>
      JSON.stringify({ data: list.slice(page * limit, (page + 1) * limit) })
    if (url.pathname === '/tickets') res.end(paged(this.tickets))
    else if (url.pathname === '/accounts') res.end(paged([{ id: 'A1' }]))
    else if (url.pathname === '/comments')
      res.end(paged(this.comments.get(url.searchParams.get('ticketId')!) ?? []))
    else {
      res.statusCode = 404
      res.end('{"message":"Cannot GET"}')
    }
  })

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
    return this
  }

  close(): Promise<void> {
    this.#server.closeAllConnections()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }

  /** `n` tickets with one comment each, updated `minutesAgo` (all equal unless told). */
  seed(n: number, minutesAgo = 60): void {
    for (let i = 0; i < n; i++) {
      const id = `T${String(i).padStart(2, '0')}`
      this.tickets.push({ id, updatedAt: ago(minutesAgo - i / 60) })
      this.comments.set(id, [{ id: `${id}-c0`, body: 'first' }])
    }
  }

  /** A comment added to a ticket: its `updatedAt` moves to now (as Thena's does). */
  comment(ticketId: string, id: string): void {
    this.comments.get(ticketId)!.push({ id, body: 'later' })
    this.touch(ticketId)
  }

  touch(ticketId: string, at = new Date().toISOString()): void {
    this.tickets.find((t) => t.id === ticketId)!.updatedAt = at
  }

  ticketPages(): number {
    return this.asked.filter((a) => a.startsWith('/tickets')).length
  }

  commentRequests(): string[] {
    return this.asked.filter((a) => a.startsWith('/comments'))
  }
}

export const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString()
