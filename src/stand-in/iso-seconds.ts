const P2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'))
const dayPrefix = new Map<number, string>()

/** ISO 8601 (`2024-01-09T15:11:00.000Z`) of UNIX seconds, without a Date per call: it is on
 * the hot path of every page the simulator serves. */
export function isoSeconds(seconds: number): string {
  const day = Math.floor(seconds / 86_400)
  let prefix = dayPrefix.get(day)
  if (prefix === undefined) {
    if (dayPrefix.size > 10_000) dayPrefix.clear()
    prefix = new Date(day * 86_400_000).toISOString().slice(0, 11)
    dayPrefix.set(day, prefix)
  }
  const r = seconds - day * 86_400
  return `${prefix}${P2[(r / 3600) | 0]}:${P2[((r % 3600) / 60) | 0]}:${P2[r % 60]}.000Z`
}
