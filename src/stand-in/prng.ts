/**
 * Small, fast, seedable randomness. Every value the simulator invents is a pure function of
 * (seed, stream, index), so a record can be regenerated on demand instead of being stored: that
 * is what keeps the simulator's memory flat however many records it serves.
 */

/** 32-bit string/number mixer (FNV-1a over the parts, then a murmur3 finaliser). */
export function hash32(...parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5
  for (const part of parts) {
    const s = typeof part === 'number' ? String(part) : part
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i)
      h = Math.imul(h, 0x01000193)
    }
    h ^= 0x2f
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** 32-bit hash of three integers: the fast path for (seed, stream, index) on every record. */
export function hashInts(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35)
  h = Math.imul(h ^ (h >>> 16) ^ c, 0x27d4eb2f)
  h ^= h >>> 15
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  return h >>> 0
}

/** A deterministic random stream (mulberry32). */
export class Rng {
  #state: number

  constructor(seed: number) {
    this.#state = seed >>> 0
  }

  /** Uniform float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T
  }

  hex(length: number): string {
    let out = ''
    while (out.length < length)
      out += ((this.next() * 0x100000000) >>> 0).toString(16).padStart(8, '0')
    return out.slice(0, length)
  }
}

/** Deterministic probability check for one event, independent of call order. */
export function decide(probability: number, ...key: readonly (string | number)[]): boolean {
  if (probability <= 0) return false
  if (probability >= 1) return true
  return hash32(...key) / 4294967296 < probability
}
