type LatinBuffer = Buffer & { latin1Write(text: string, offset: number): number }

const DIGITS2 = Buffer.from(
  Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''),
)
const HEX = Buffer.from('0123456789abcdef')
const dayPrefixes = new Map<number, Buffer>()

/**
 * An append-only byte buffer that grows by doubling. Page bodies are assembled in one, and the
 * hot per-record values (hex ids, timestamps, numbers) are written as bytes, without building
 * a string for each.
 */
export class ByteWriter {
  #buf: Buffer
  #length = 0

  constructor(initialSize = 512 * 1024) {
    this.#buf = Buffer.allocUnsafe(initialSize)
  }

  get length(): number {
    return this.#length
  }

  /** Empties the writer, keeping its buffer. */
  clear(): void {
    this.#length = 0
  }

  /** Makes room for `bytes` more bytes. */
  reserve(bytes: number): void {
    const needed = this.#length + bytes
    if (needed <= this.#buf.length) return
    let size = this.#buf.length * 2
    while (size < needed) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.#buf.copy(next, 0, 0, this.#length)
    this.#buf = next
  }

  /** Appends text known to be ASCII (ids, numbers, timestamps, JSON punctuation). */
  ascii(text: string): void {
    this.reserve(text.length)
    // latin1Write skips the encoding dispatch of write(); Node has it on every Buffer.
    this.#length += (this.#buf as LatinBuffer).latin1Write(text, this.#length)
  }

  utf8(text: string): void {
    this.reserve(Buffer.byteLength(text))
    this.#length += this.#buf.write(text, this.#length, 'utf8')
  }

  bytes(chunk: Uint8Array): void {
    this.reserve(chunk.length)
    this.bytesReserved(chunk)
  }

  /** `bytes()` for a caller that already reserved the room (the per-record hot path). */
  bytesReserved(chunk: Uint8Array): void {
    const buf = this.#buf
    let at = this.#length
    // Short runs are copied by hand: cheaper than the call overhead of set() for a few bytes.
    if (chunk.length < 48) for (let i = 0; i < chunk.length; i++) buf[at++] = chunk[i]!
    else {
      buf.set(chunk, at)
      at += chunk.length
    }
    this.#length = at
  }

  /** Appends `value` as `width` lowercase hex digits (room must be reserved). */
  hexReserved(value: number, width: number): void {
    const buf = this.#buf
    const end = this.#length + width
    for (let i = end - 1; i >= this.#length; i--) {
      buf[i] = HEX[value & 15]!
      value >>>= 4
    }
    this.#length = end
  }

  /** Appends a non-negative integer in decimal, zero-padded to `width` (room must be reserved). */
  intReserved(value: number, width = 1): void {
    let digits = 1
    for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++
    const n = Math.max(width, digits)
    const buf = this.#buf
    const end = this.#length + n
    for (let i = end - 1; i >= this.#length; i--) {
      buf[i] = 48 + (value % 10)
      value = Math.floor(value / 10)
    }
    this.#length = end
  }

  /** Appends ISO 8601 of UNIX seconds, e.g. `2024-01-09T15:11:00.000Z` (room must be reserved). */
  isoReserved(seconds: number): void {
    const day = Math.floor(seconds / 86_400)
    let prefix = dayPrefixes.get(day)
    if (prefix === undefined) {
      if (dayPrefixes.size > 10_000) dayPrefixes.clear()
      prefix = Buffer.from(new Date(day * 86_400_000).toISOString().slice(0, 11))
      dayPrefixes.set(day, prefix)
    }
    this.bytesReserved(prefix)
    const r = seconds - day * 86_400
    const buf = this.#buf
    let at = this.#length
    // No helper closure here: tsx wraps every function in a naming shim that costs more than
    // the digits themselves on this path.
    const h = ((r / 3600) | 0) * 2
    const m = (((r % 3600) / 60) | 0) * 2
    const sec = (r % 60) * 2
    buf[at++] = DIGITS2[h]!
    buf[at++] = DIGITS2[h + 1]!
    buf[at++] = 58 // ':'
    buf[at++] = DIGITS2[m]!
    buf[at++] = DIGITS2[m + 1]!
    buf[at++] = 58
    buf[at++] = DIGITS2[sec]!
    buf[at++] = DIGITS2[sec + 1]!
    buf[at++] = 46 // '.'
    buf[at++] = 48
    buf[at++] = 48
    buf[at++] = 48
    buf[at++] = 90 // 'Z'
    this.#length = at
  }

  /** The bytes written so far (a view into the buffer, valid until the next write). */
  view(): Buffer {
    return this.#buf.subarray(0, this.#length)
  }

  toString(): string {
    return this.#buf.toString('utf8', 0, this.#length)
  }
}
