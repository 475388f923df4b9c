/** Shortest secret that is redacted: shorter ones would mangle ordinary text. */
const MIN_SECRET_LENGTH = 4

/** Where a secret can appear written differently from how it was configured. */
function spellings(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])
  // How a URL writes it in its userinfo, and how a query string or form writes it.
  const url = new URL('http://x')
  url.password = secret
  forms.add(url.password)
  forms.add(new URLSearchParams({ s: secret }).toString().slice(2))
  try {
    forms.add(decodeURIComponent(secret))
  } catch {
    // Not percent-encoded text: the forms above cover it.
  }
  return [...forms].filter((form) => form.length >= MIN_SECRET_LENGTH)
}

/**
 * Removes secrets from text. Every secret the configuration resolves (tokens from any
 * environment variable, database passwords wherever they sit in a destination) is added when
 * it is resolved, and every message, log line, error and system-table write passes through
 * `redact` before it leaves the process or reaches the warehouse.
 */
export class Redactor {
  readonly #secrets = new Set<string>()
  #pattern: RegExp | undefined

  /** Adds a secret in every spelling it may take (percent-encoded, JSON-escaped). */
  add(secret: string | undefined | null): void {
    if (!secret) return
    const before = this.#secrets.size
    for (const form of spellings(secret)) this.#secrets.add(form)
    if (this.#secrets.size !== before) this.#pattern = undefined
  }

  /** `text` with every known secret replaced by `***`. */
  redact(text: string): string {
    if (this.#secrets.size === 0) return text
    // Longest first, so that a secret containing another one is removed whole.
    this.#pattern ??= new RegExp(
      [...this.#secrets]
        .sort((a, b) => b.length - a.length)
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g',
    )
    return text.replace(this.#pattern, '***')
  }
}

/** The process's redactor: the configuration feeds it, every output goes through it. */
export const redactor = new Redactor()
