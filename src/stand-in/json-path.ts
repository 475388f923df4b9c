/** A JSON object as the API returns it. */
export type JsonObject = { [key: string]: unknown }

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function getPath(target: JsonObject, path: readonly string[]): unknown {
  let node: unknown = target
  for (const key of path) {
    if (!isJsonObject(node)) return undefined
    node = node[key]
  }
  return node
}

/** Sets a value, creating intermediate objects (replacing a null or scalar on the way). */
export function setPath(target: JsonObject, path: readonly string[], value: unknown): void {
  let node = target
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (isJsonObject(next)) node = next
    else node = node[key] = {}
  }
  node[path[path.length - 1]!] = value
}

export function deletePath(target: JsonObject, path: readonly string[]): void {
  const parent = getPath(target, path.slice(0, -1))
  if (isJsonObject(parent)) delete parent[path[path.length - 1]!]
}
