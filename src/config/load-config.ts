import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigError } from '../errors.js'
import type { ThenaSyncConfig } from './define-config.js'
import { defaultConfig } from './default-config.js'

/**
 * Loads `pipelines.config.ts` (or the file given). Without one, the built-in default applies:
 * one pipeline `thena` configured from THENA_API_TOKEN, THENA_BASE_URL and THENA_DESTINATION.
 */
export async function loadConfig(path?: string): Promise<ThenaSyncConfig> {
  const file = resolve(path ?? 'pipelines.config.ts')
  if (!existsSync(file)) {
    if (path) throw new ConfigError(`--config: no file at ${file}`)
    return defaultConfig
  }
  let mod: { default?: unknown }
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown }
  } catch (error) {
    throw new ConfigError(
      `${file}: cannot be loaded (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
    )
  }
  const config = mod.default as ThenaSyncConfig | undefined
  if (!config || typeof config !== 'object' || typeof config.pipelines !== 'object') {
    throw new ConfigError(
      `${file}: expected \`export default defineConfig({ pipelines: { ... } })\``,
    )
  }
  return Object.freeze(config)
}
