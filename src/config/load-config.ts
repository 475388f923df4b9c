import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { BuildFailure, Plugin } from 'esbuild'
import { ConfigError } from '../errors.js'
import { validateConfig } from './config-schema.js'
import type { ThenaSyncConfig } from './define-config.js'
import { defaultConfig } from './default-config.js'

/** Config file names looked for in the working directory, in this order. */
export const CONFIG_FILES = [
  'pipelines.config.ts',
  'pipelines.config.mts',
  'pipelines.config.js',
  'pipelines.config.mjs',
] as const

/** This package's root: imports that land inside it are shared with the running CLI. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PACKAGE_INDEX = pathToFileURL(join(PACKAGE_ROOT, 'src', 'index.ts')).href

const inPackage = (path: string) => {
  const rel = relative(PACKAGE_ROOT, path)
  return rel !== '' && !rel.startsWith('..') && !rel.split(sep).includes('node_modules')
}

/**
 * Loads `pipelines.config.ts` (or `.mts`, `.js`, `.mjs`, or the file given). Without one, the
 * built-in default applies: one pipeline `thena` configured from THENA_API_TOKEN,
 * THENA_BASE_URL and THENA_DESTINATION. The whole config is checked by the config schema.
 */
export async function loadConfig(path?: string): Promise<ThenaSyncConfig> {
  const file = path
    ? resolve(path)
    : CONFIG_FILES.map((name) => resolve(name)).find((candidate) => existsSync(candidate))
  if (!file) return validateConfig(defaultConfig)
  if (!existsSync(file)) throw new ConfigError(`--config: no file at ${file}`)
  const mod = await importConfig(file)
  if (!mod || typeof mod !== 'object' || !('default' in mod) || mod.default === undefined)
    throw new ConfigError(
      `${file}: expected \`export default defineConfig({ pipelines: { ... } })\``,
    )
  return Object.freeze(validateConfig(mod.default))
}

/**
 * Compiles the config and its relative imports into one ES module and imports it. The file is
 * ESM whatever the nearest package.json says (npm's default is CommonJS, where tsx would
 * compile it as CommonJS and fail on `import`). `thena-sync` and files of this package stay
 * imports of the running copy, so the config and the CLI share one set of modules.
 */
async function importConfig(file: string): Promise<Record<string, unknown>> {
  const { build } = await import('esbuild')
  const bare = new Set<string>()
  let code: string
  try {
    const result = await build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      plugins: [sharePackageModules(bare)],
    })
    code = result.outputFiles[0]!.text
  } catch (error) {
    throw new ConfigError(describeBuildFailure(error as BuildFailure, file))
  }
  // Packages are resolved already: only import.meta or a package that did not resolve (Node
  // then names it) needs the module to run from the config's folder.
  if (bare.size === 0 && !code.includes('import.meta'))
    return runModule(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`, file)
  const name = `.${basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.mjs`
  // Beside the config, so that its packages resolve from its own node_modules.
  let out = join(dirname(file), name)
  try {
    await writeFile(out, code, { flag: 'wx' })
  } catch {
    out = join(tmpdir(), name)
    await writeFile(out, code, { flag: 'wx' })
  }
  try {
    return await runModule(pathToFileURL(out).href, file)
  } finally {
    await unlink(out).catch(() => undefined)
  }
}

async function runModule(url: string, file: string): Promise<Record<string, unknown>> {
  // A top-level await that nothing settles empties the event loop: Node would exit 13 silently.
  let onIdle = () => undefined as void
  const idle = new Promise<never>((_, reject) => {
    onIdle = () =>
      reject(
        new ConfigError(`${file}: never finished loading (a top-level await that nothing settles)`),
      )
    process.once('beforeExit', onIdle)
  })
  try {
    return (await Promise.race([import(url), idle])) as Record<string, unknown>
  } catch (error) {
    if (error instanceof ConfigError) throw error
    const message = error instanceof Error ? error.message.split('\n')[0] : `threw ${thrown(error)}`
    throw new ConfigError(`${file}: failed while loading (${message})`)
  } finally {
    process.off('beforeExit', onIdle)
  }
}

/**
 * An esbuild plugin: `thena-sync` resolves to this package's entry, files inside this package
 * and Node built-ins stay external, other packages stay external (collected in `bare`).
 */
function sharePackageModules(bare: Set<string>): Plugin {
  return {
    name: 'thena-sync-share-modules',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData === 'inner') return undefined
        if (args.path === 'thena-sync') return { path: PACKAGE_INDEX, external: true }
        if (/^node:/.test(args.path)) return { path: args.path, external: true }
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: 'inner',
        })
        if (!/^[./]/.test(args.path) && !/^file:/.test(args.path)) {
          // Resolved here, from the real folder of the file importing it: the compiled module
          // may run from elsewhere (a symlinked config, a read-only folder's fallback in tmp).
          if (resolved.errors.length === 0 && !resolved.external && isAbsolute(resolved.path))
            return { path: pathToFileURL(resolved.path).href, external: true }
          bare.add(args.path)
          return { path: args.path, external: true }
        }
        if (resolved.errors.length > 0) return undefined
        if (inPackage(resolved.path))
          return { path: pathToFileURL(resolved.path).href, external: true }
        return resolved
      })
    },
  }
}

/** esbuild's first error as `file:line:column: message`. */
function describeBuildFailure(error: BuildFailure, file: string): string {
  const first = error.errors?.[0]
  if (!first) return `${file}: cannot be compiled (${String(error.message).split('\n')[0]})`
  const where = first.location
    ? `${resolve(first.location.file)}:${first.location.line}:${first.location.column + 1}`
    : file
  const more = error.errors.length > 1 ? ` (and ${error.errors.length - 1} more)` : ''
  return `${where}: ${first.text}${more}`
}

/** A thrown value that is not an Error, as text: `{"code":42}`, not `[object Object]`. */
function thrown(value: unknown): string {
  let text: string
  try {
    text = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)
  } catch {
    text = String(value)
  }
  return text.length > 200 ? `${text.slice(0, 197)}...` : text
}
